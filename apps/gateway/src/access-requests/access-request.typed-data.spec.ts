import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ACCESS_REQUEST_TYPES, accessRequestTypedData, appDomain } from './access-request.typed-data';

const valid = () => ({
  domain: appDomain(31337),
  types: structuredClone(ACCESS_REQUEST_TYPES),
  primaryType: 'AccessRequest',
  message: {
    app: '0x00000000000000000000000000000000000000aa',
    serverId: `srv_${'0'.repeat(32)}`,
    operations: ['stats'],
    fileIds: [],
    allFiles: true,
    expiresAt: '0',
    purpose: 'why',
    returnUrl: '',
    appName: 'app',
    origins: ['https://app.example'],
    nonce: `0x${'1'.repeat(64)}`,
    deadline: '1',
  },
});

function fields(input: unknown): string[] {
  const parsed = accessRequestTypedData.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.') || i.code);
}

describe('AccessRequest typed data', () => {
  it('takes the typed data the route gives, with or without an EIP712Domain type of this domain', () => {
    assert.deepEqual(fields(valid()), []);
    const withDomain = valid() as ReturnType<typeof valid> & { types: Record<string, unknown> };
    withDomain.types.EIP712Domain = [
      { name: 'name', type: 'string' },
      { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' },
    ];
    assert.deepEqual(fields(withDomain), []);
  });

  it('refuses other types, a verifying contract, unknown fields, files beside allFiles and a bad origin', () => {
    const otherTypes = {
      ...valid(),
      types: {
        AccessRequest: [{ name: 'app', type: 'string' }, ...ACCESS_REQUEST_TYPES.AccessRequest.slice(1)],
      },
    };
    assert.deepEqual(fields(otherTypes), ['types']);
    const contract = valid() as ReturnType<typeof valid> & { domain: Record<string, unknown> };
    contract.domain.verifyingContract = '0x00000000000000000000000000000000000000bb';
    assert.deepEqual(fields(contract), ['domain']);
    const extra = valid() as ReturnType<typeof valid> & { message: Record<string, unknown> };
    extra.message.key = 'x';
    assert.deepEqual(fields(extra), ['message']);
    const both = valid();
    both.message.fileIds = [`fil_${'2'.repeat(32)}`] as never;
    assert.deepEqual(fields(both), ['message.fileIds']);
    const origin = valid();
    origin.message.origins = ['https://app.example/path'];
    assert.deepEqual(fields(origin), ['message.origins.0']);
    const purpose = valid();
    purpose.message.purpose = ' ';
    assert.deepEqual(fields(purpose), ['message.purpose']);
  });
});
