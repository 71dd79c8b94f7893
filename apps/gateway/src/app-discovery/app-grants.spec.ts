import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GrantRecord } from '@hearth/permissions';
import { covers } from './app-grants.service';

const grant = (over: Partial<GrantRecord> = {}): GrantRecord => ({
  grantId: '1',
  grantor: '0x0000000000000000000000000000000000000001',
  grantee: '0x0000000000000000000000000000000000000002',
  serverId: 'srv_x',
  operations: ['stats'],
  fileIds: ['fil_a', 'fil_b'],
  allFiles: false,
  expiresAt: null,
  revoked: false,
  expired: false,
  status: 'active',
  txHash: null,
  addedAtBlock: null,
  ...over,
});

describe('which grant covers an operation request', () => {
  const need = { operation: 'stats', scopeIds: ['fil_a'], requireAllFiles: false };

  it('an active grant with the operation and every named file, or allFiles', () => {
    assert.equal(covers(grant(), need), true);
    assert.equal(covers(grant(), { ...need, scopeIds: ['fil_a', 'fil_b'] }), true);
    assert.equal(covers(grant({ allFiles: true, fileIds: [] }), { ...need, scopeIds: ['fil_z'] }), true);
  });

  it('never a revoked or expired one, another operation, a file outside it, or listed files for "all"', () => {
    assert.equal(covers(grant({ status: 'revoked' }), need), false);
    assert.equal(covers(grant({ status: 'expired' }), need), false);
    assert.equal(covers(grant(), { ...need, operation: 'summarize' }), false);
    assert.equal(covers(grant(), { ...need, scopeIds: ['fil_a', 'fil_z'] }), false);
    assert.equal(covers(grant(), { ...need, scopeIds: [], requireAllFiles: true }), false);
    assert.equal(covers(grant({ allFiles: true }), { ...need, scopeIds: [], requireAllFiles: true }), true);
  });
});
