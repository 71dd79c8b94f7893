import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverPolicy, type ServerPolicyFields } from './server-policy';

const ADDRESS = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
const CHECKSUMMED = '0x5FbDB2315678afecb367f032d93F642f64180aa3';

describe('serverPolicy', () => {
  it('a grants server is checked against DataPermissions grants, whatever address is left over', () => {
    assert.deepEqual(serverPolicy({ policyKind: 'grants', policyAddress: null }), { kind: 'grants' });
    assert.deepEqual(serverPolicy({ policyKind: 'grants', policyAddress: ADDRESS }), { kind: 'grants' });
  });

  it("an owner's contract and a collective's whitelist are both asked authorized(app, fileId)", () => {
    for (const policyKind of ['contract', 'whitelist'] as const) {
      assert.deepEqual(serverPolicy({ policyKind, policyAddress: ADDRESS }), {
        kind: 'contract',
        address: CHECKSUMMED,
      });
    }
  });

  it('refuses a contract policy without a valid address instead of falling back to grants', () => {
    assert.throws(() => serverPolicy({ policyKind: 'contract', policyAddress: null }), /without a contract/);
    assert.throws(() => serverPolicy({ policyKind: 'whitelist', policyAddress: '0x12' }));
    // A kind the schema does not allow (the column's CHECK) is no policy at all, never "grants" by default.
    assert.throws(() =>
      serverPolicy({ policyKind: 'other', policyAddress: ADDRESS } as unknown as ServerPolicyFields),
    );
  });
});
