/**
 * The aws adapter is tested through the real @aws-sdk/client-kms over HTTP against
 * test/support/fake-kms.ts, a wire-level fake of the KMS JSON 1.1 protocol (AWS cannot be reached
 * from tests). The shared behaviour is in contract.spec.ts; this file checks what goes on the wire.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startFakeKms, type FakeKms } from '../../../test/support/fake-kms';
import { AwsKeyManager, PENDING_DELETION_DAYS } from './aws';
import { KeyManagerError, type KeyManagerErrorCode, fileKeyContext } from './index';

async function rejectsWith(promise: Promise<unknown>, code: KeyManagerErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof KeyManagerError && err.code === code);
}

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

describe('aws key manager on the wire (fake KMS)', () => {
  let fake: FakeKms;
  let kms: AwsKeyManager;

  before(async () => {
    fake = await startFakeKms({ region: 'eu-central-1' });
    kms = new AwsKeyManager({
      region: fake.region,
      endpoint: fake.endpoint,
      credentials,
      maxAttempts: 1,
      aliasPrefix: 'hearth-test',
    });
  });
  after(async () => {
    kms.close();
    await fake.close();
  });

  it('creates a tagged, aliased symmetric key per tenant and returns its ARN as keyRef', async () => {
    const { keyRef } = await kms.createTenantKey('srv_tagged');
    assert.match(keyRef, /^arn:aws:kms:eu-central-1:\d+:key\/[0-9a-f-]{36}$/);
    const create = fake.requests.find((r) => r.operation === 'CreateKey');
    assert.deepEqual(create?.body.Tags, [
      { TagKey: 'TenantId', TagValue: 'srv_tagged' },
      { TagKey: 'ManagedBy', TagValue: 'hearth' },
    ]);
    assert.equal(create?.body.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(fake.aliases.get('alias/hearth-test/srv_tagged'), keyRef.split('/').pop());
  });

  it('sends the encryption context with GenerateDataKey and Decrypt, and pins KeyId', async () => {
    const { keyRef } = await kms.createTenantKey('srv_ctx');
    const ctx = fileKeyContext('srv_ctx', 'fil_1');
    const { wrapped } = await kms.generateDataKey(keyRef, ctx);
    await kms.unwrapDataKey(keyRef, wrapped, ctx);
    const gen = fake.requests.filter((r) => r.operation === 'GenerateDataKey').pop();
    assert.deepEqual(gen?.body, { KeyId: keyRef, KeySpec: 'AES_256', EncryptionContext: ctx });
    const dec = fake.requests.filter((r) => r.operation === 'Decrypt').pop();
    assert.equal(dec?.body.KeyId, keyRef);
    assert.deepEqual(dec?.body.EncryptionContext, ctx);
  });

  it('destroys by DisableKey, then ScheduleKeyDeletion with the 7-day minimum window', async () => {
    const { keyRef } = await kms.createTenantKey('srv_destroy');
    const from = fake.requests.length;
    await kms.destroyTenantKey(keyRef);
    const ops = fake.requests.slice(from);
    assert.deepEqual(
      ops.map((r) => r.operation),
      ['DisableKey', 'ScheduleKeyDeletion'],
    );
    assert.equal(ops[1]?.body.PendingWindowInDays, PENDING_DELETION_DAYS);
    assert.equal(PENDING_DELETION_DAYS, 7);
    assert.equal(fake.keys.get(keyRef.split('/').pop() as string)?.state, 'PendingDeletion');
    await kms.destroyTenantKey(keyRef); // idempotent on a key pending deletion
  });

  it('a disabled key (destroy interrupted after DisableKey) is already unusable', async () => {
    const { keyRef } = await kms.createTenantKey('srv_half');
    const ctx = fileKeyContext('srv_half', 'fil_1');
    const { wrapped } = await kms.generateDataKey(keyRef, ctx);
    (fake.keys.get(keyRef.split('/').pop() as string) as { state: string }).state = 'Disabled';
    await rejectsWith(kms.unwrapDataKey(keyRef, wrapped, ctx), 'key_destroyed');
    await kms.destroyTenantKey(keyRef); // completes the schedule
    assert.equal(fake.keys.get(keyRef.split('/').pop() as string)?.state, 'PendingDeletion');
  });

  it('reports a missing key as key_not_found', async () => {
    await rejectsWith(
      kms.generateDataKey('arn:aws:kms:eu-central-1:111122223333:key/00000000-0000-0000-0000-000000000000', {
        tenantId: 'x',
      }),
      'key_not_found',
    );
    await rejectsWith(kms.destroyTenantKey('00000000-0000-0000-0000-000000000000'), 'key_not_found');
  });

  it('maps an unreachable endpoint to kms_unavailable', async () => {
    // a port that was free a moment ago: nothing listens there
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const down = new AwsKeyManager({
      region: 'eu-central-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials,
      maxAttempts: 1,
    });
    try {
      await rejectsWith(down.health(), 'kms_unavailable');
      await rejectsWith(down.generateDataKey('some-key', { tenantId: 'x' }), 'kms_unavailable');
    } finally {
      down.close();
    }
  });
});
