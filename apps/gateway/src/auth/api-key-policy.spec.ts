import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, ProblemError } from '@hearth/errors';
import {
  assertOperationAllowed,
  assertOriginAllowed,
  normalizeOrigin,
  originAllowed,
} from './api-key-policy';
import type { AuthenticatedApiKey } from './auth.types';

const key = (over: Partial<AuthenticatedApiKey> = {}): AuthenticatedApiKey => ({
  id: 'key_x',
  serverId: 'srv_x',
  name: 'k',
  appAddress: '0x0000000000000000000000000000000000000001',
  operations: null,
  origins: null,
  ratePerMinute: 10,
  server: {
    id: 'srv_x',
    kind: 'personal',
    address: '0x0000000000000000000000000000000000000003',
    publicKey: '0x04',
    ownerAddress: '0x0000000000000000000000000000000000000002',
    kmsKeyRef: 'local:00000000000000000000000000000000',
    policyKind: 'grants',
    policyAddress: null,
  },
  ...over,
});

describe('API key policy', () => {
  it('normalizes origins and refuses anything that is not one', () => {
    assert.equal(normalizeOrigin('HTTPS://App.Example.com'), 'https://app.example.com');
    assert.equal(normalizeOrigin('https://example.com:443'), 'https://example.com');
    assert.equal(normalizeOrigin('http://localhost:3000'), 'http://localhost:3000');
    assert.equal(normalizeOrigin('https://*.Example.com'), 'https://*.example.com');
    for (const bad of [
      'example.com',
      'https://example.com/',
      'https://example.com/x',
      'https://u:p@example.com',
      'ftp://example.com',
      'https://example.com?q',
      'null',
    ]) {
      assert.equal(normalizeOrigin(bad), null, bad);
    }
  });

  it('matches exact origins and subdomain wildcards only', () => {
    const list = ['https://app.example.com', 'https://*.trusted.dev'];
    assert.ok(originAllowed(list, 'https://app.example.com'));
    assert.ok(originAllowed(list, 'https://x.trusted.dev'));
    assert.ok(!originAllowed(list, 'https://trusted.dev'));
    assert.ok(!originAllowed(list, 'https://xtrusted.dev'));
    assert.ok(!originAllowed(list, 'http://x.trusted.dev'));
    assert.ok(!originAllowed(list, 'https://*.trusted.dev'));
    assert.ok(!originAllowed(list, undefined));
    assert.doesNotThrow(() => assertOriginAllowed(key(), 'https://anything'));
  });

  it('checks the operation allowlist and names the operation', () => {
    assert.doesNotThrow(() => assertOperationAllowed(key(), 'summarize'));
    assert.doesNotThrow(() => assertOperationAllowed(key({ operations: ['summarize'] }), 'summarize'));
    assert.throws(
      () => assertOperationAllowed(key({ operations: ['summarize'] }), 'ask'),
      (err: unknown) =>
        err instanceof ProblemError &&
        err.status === 403 &&
        err.code === ErrorCode.operation_not_allowed &&
        /"ask"/.test(err.detail),
    );
  });
});
