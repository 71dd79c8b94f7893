/**
 * One contract, run against both adapters: `local` on a temp keystore, and `aws` through the real
 * @aws-sdk/client-kms talking HTTP to test/support/fake-kms.ts (AWS itself is not reachable from
 * tests; the fake speaks the KMS JSON 1.1 wire protocol, really encrypts and enforces
 * EncryptionContext and key state).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeKms, type FakeKms } from '../../../test/support/fake-kms';
import {
  type AwsKeyManager,
  type KeyManager,
  KeyManagerError,
  type KeyManagerErrorCode,
  createKeyManager,
  fileKeyContext,
} from './index';

async function rejectsWith(promise: Promise<unknown>, code: KeyManagerErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof KeyManagerError, `expected KeyManagerError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

interface Harness {
  kms: KeyManager;
  /** A second instance over the same backing store (another process, or after a restart). */
  reopen(): KeyManager;
  teardown(): Promise<void>;
}

function contract(name: string, setup: () => Promise<Harness>): void {
  describe(`KeyManager contract: ${name}`, () => {
    let h: Harness;
    let kms: KeyManager;
    let keyA: string;
    let keyB: string;
    const ctxA = fileKeyContext('srv_a', 'fil_1');

    before(async () => {
      h = await setup();
      kms = h.kms;
      keyA = (await kms.createTenantKey('srv_a')).keyRef;
      keyB = (await kms.createTenantKey('srv_b')).keyRef;
    });
    after(() => h.teardown());

    it('reports its provider and is healthy', async () => {
      assert.equal(kms.provider, name);
      await kms.health();
    });

    it('gives each tenant a distinct keyRef', () => {
      assert.equal(typeof keyA, 'string');
      assert.notEqual(keyA, keyB);
    });

    it('round-trips a 32-byte data key', async () => {
      const { plaintext, wrapped } = await kms.generateDataKey(keyA, ctxA);
      assert.equal(plaintext.length, 32);
      assert.ok(!wrapped.includes(plaintext), 'wrapped blob must not contain the key');
      assert.deepEqual(await kms.unwrapDataKey(keyA, wrapped, ctxA), plaintext);
      // context key order does not matter
      const reordered = { fileId: 'fil_1', tenantId: 'srv_a', serverId: 'srv_a' };
      assert.deepEqual(await kms.unwrapDataKey(keyA, wrapped, reordered), plaintext);
      // another instance over the same store unwraps it too (gateway wraps, worker unwraps)
      assert.deepEqual(await h.reopen().unwrapDataKey(keyA, wrapped, ctxA), plaintext);
    });

    it('gives a fresh data key every time', async () => {
      const a = await kms.generateDataKey(keyA, ctxA);
      const b = await kms.generateDataKey(keyA, ctxA);
      assert.notDeepEqual(a.plaintext, b.plaintext);
    });

    it('refuses a wrong encryption context', async () => {
      const { wrapped } = await kms.generateDataKey(keyA, ctxA);
      await rejectsWith(kms.unwrapDataKey(keyA, wrapped, fileKeyContext('srv_a', 'fil_2')), 'unwrap_failed');
      await rejectsWith(kms.unwrapDataKey(keyA, wrapped, { ...ctxA, extra: 'x' }), 'unwrap_failed');
      await rejectsWith(
        kms.unwrapDataKey(keyA, wrapped, { tenantId: 'srv_a', serverId: 'srv_a' }),
        'unwrap_failed',
      );
      await rejectsWith(kms.unwrapDataKey(keyA, wrapped, { ...ctxA, tenantId: 'srv_b' }), 'unwrap_failed');
    });

    it("refuses another tenant's keyRef, even with the original context", async () => {
      const { wrapped } = await kms.generateDataKey(keyA, ctxA);
      await rejectsWith(kms.unwrapDataKey(keyB, wrapped, ctxA), 'unwrap_failed');
      const secret = await kms.encrypt(keyA, Buffer.from('identity key of srv_a'), ctxA);
      await rejectsWith(kms.decrypt(keyB, secret, ctxA), 'unwrap_failed');
    });

    it('refuses altered ciphertext', async () => {
      const { wrapped } = await kms.generateDataKey(keyA, ctxA);
      const altered = Buffer.from(wrapped);
      altered[altered.length - 1] = altered[altered.length - 1] ^ 1;
      await rejectsWith(kms.unwrapDataKey(keyA, altered, ctxA), 'unwrap_failed');
    });

    it('encrypts and decrypts small secrets up to 4 KiB', async () => {
      const ctx = { tenantId: 'srv_a', serverId: 'srv_a', purpose: 'identity' };
      for (const size of [1, 32, 4096]) {
        const secret = randomBytes(size);
        const sealed = await kms.encrypt(keyA, secret, ctx);
        assert.ok(!sealed.includes(secret) || size < 8);
        assert.deepEqual(await kms.decrypt(keyA, sealed, ctx), secret);
        await rejectsWith(kms.decrypt(keyA, sealed, { ...ctx, purpose: 'other' }), 'unwrap_failed');
      }
      await rejectsWith(kms.encrypt(keyA, randomBytes(4097), ctx), 'invalid_argument');
    });

    it('reports an unknown keyRef as key_not_found', async () => {
      const other = await kms.createTenantKey('srv_tmp');
      const unknown = other.keyRef.replace(/[0-9a-f](?=[0-9a-f]{4}$)/, (c) => (c === '0' ? '1' : '0'));
      await rejectsWith(kms.generateDataKey(unknown, ctxA), 'key_not_found');
    });

    it('destroys a tenant key for good (crypto-shredding), leaving other tenants intact', async () => {
      const victim = (await kms.createTenantKey('srv_victim')).keyRef;
      const ctx = fileKeyContext('srv_victim', 'fil_9');
      const { wrapped } = await kms.generateDataKey(victim, ctx);
      const secret = await kms.encrypt(victim, Buffer.from('server identity key'), ctx);
      const survivor = await kms.generateDataKey(keyB, fileKeyContext('srv_b', 'fil_1'));

      await kms.destroyTenantKey(victim);
      await rejectsWith(kms.unwrapDataKey(victim, wrapped, ctx), 'key_destroyed');
      await rejectsWith(kms.decrypt(victim, secret, ctx), 'key_destroyed');
      await rejectsWith(kms.generateDataKey(victim, ctx), 'key_destroyed');
      await rejectsWith(kms.encrypt(victim, Buffer.from('x'), ctx), 'key_destroyed');
      // for good: a fresh instance (another process, a restart) cannot either
      await rejectsWith(h.reopen().unwrapDataKey(victim, wrapped, ctx), 'key_destroyed');
      // idempotent, so a retried DELETE succeeds
      await kms.destroyTenantKey(victim);
      assert.deepEqual(
        await kms.unwrapDataKey(keyB, survivor.wrapped, fileKeyContext('srv_b', 'fil_1')),
        survivor.plaintext,
      );
    });

    it('rejects an empty or non-string context', async () => {
      await rejectsWith(kms.generateDataKey(keyA, {}), 'invalid_argument');
      await rejectsWith(kms.generateDataKey(keyA, { a: 1 as unknown as string }), 'invalid_argument');
    });
  });
}

contract('local', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-kms-contract-'));
  const masterKey = randomBytes(32);
  const options = { provider: 'local' as const, keystoreDir: path.join(dir, 'keystore'), masterKey };
  return {
    kms: createKeyManager(options),
    reopen: () => createKeyManager(options),
    teardown: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});

contract('aws', async () => {
  const fake: FakeKms = await startFakeKms();
  const made: AwsKeyManager[] = [];
  const open = (): AwsKeyManager => {
    const kms = createKeyManager({
      provider: 'aws',
      region: fake.region,
      endpoint: fake.endpoint,
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
      maxAttempts: 1,
    }) as AwsKeyManager;
    made.push(kms);
    return kms;
  };
  return {
    kms: open(),
    reopen: open,
    teardown: async () => {
      for (const kms of made) kms.close();
      await fake.close();
    },
  };
});
