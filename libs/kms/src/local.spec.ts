import assert from 'node:assert/strict';
import { createDecipheriv, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KeyManagerError, type KeyManagerErrorCode, LocalKeyManager, fileKeyContext } from './index';

async function rejectsWith(promise: Promise<unknown>, code: KeyManagerErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof KeyManagerError && err.code === code);
}

/** Every byte of every file in the keystore, as an attacker who copied the directory has them. */
function stolenBytes(dir: string): Buffer[] {
  return fs.readdirSync(dir).flatMap((name) => {
    const raw = fs.readFileSync(path.join(dir, name));
    const out = [raw];
    // also the decoded base64 fields of JSON files
    for (const m of raw.toString('utf8').matchAll(/"([A-Za-z0-9+/=]{40,})"/g))
      out.push(Buffer.from(m[1], 'base64'));
    return out;
  });
}

describe('local key manager keystore', () => {
  let root: string;
  let dir: string;
  let masterKey: Buffer;
  let kms: LocalKeyManager;

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-kms-local-'));
    dir = path.join(root, 'keystore');
    masterKey = randomBytes(32);
    kms = new LocalKeyManager({ keystoreDir: dir, masterKey });
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('keeps one 0600 file per tenant key in a 0700 directory, and never the key in the clear', async () => {
    const { keyRef } = await kms.createTenantKey('srv_files');
    assert.match(keyRef, /^local:[0-9a-f]{32}$/);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    const file = path.join(dir, `${keyRef.slice('local:'.length)}.key`);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const content = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(content).sort(), ['createdAt', 'keyRef', 'tenantId', 'v', 'wrapped']);
    assert.equal(content.tenantId, 'srv_files');
    assert.equal(Buffer.from(content.wrapped as string, 'base64').length, 12 + 32 + 16);
    for (const name of fs.readdirSync(dir)) {
      assert.equal(fs.statSync(path.join(dir, name)).mode & 0o777, 0o600, name);
      assert.ok(!name.includes('.tmp-'), 'no temp files left behind');
    }
  });

  it('someone holding the keystore files but not the master key decrypts nothing', async () => {
    const { keyRef } = await kms.createTenantKey('srv_stolen');
    const ctx = fileKeyContext('srv_stolen', 'fil_1');
    const { plaintext, wrapped } = await kms.generateDataKey(keyRef, ctx);
    const secret = await kms.encrypt(keyRef, Buffer.from('identity private key'), ctx);

    // 1. a copy of the keystore with any other master key is refused outright
    const copy = path.join(root, 'stolen');
    fs.cpSync(dir, copy, { recursive: true });
    const thief = new LocalKeyManager({ keystoreDir: copy, masterKey: randomBytes(32) });
    await rejectsWith(thief.health(), 'kms_unavailable');
    await rejectsWith(thief.unwrapDataKey(keyRef, wrapped, ctx), 'kms_unavailable');
    await rejectsWith(thief.decrypt(keyRef, secret, ctx), 'kms_unavailable');

    // 2. no 32-byte window of any keystore file works as the tenant key on the wrapped data key
    const sealed = wrapped.subarray(2); // version, purpose, then nonce || ct || tag
    let tried = 0;
    for (const bytes of stolenBytes(copy)) {
      for (let i = 0; i + 32 <= bytes.length; i++) {
        tried++;
        const d = createDecipheriv('aes-256-gcm', bytes.subarray(i, i + 32), sealed.subarray(0, 12));
        d.setAuthTag(sealed.subarray(sealed.length - 16));
        const out = d.update(sealed.subarray(12, sealed.length - 16));
        assert.ok(!out.equals(plaintext), 'a keystore file yields the data key');
      }
    }
    assert.ok(tried > 100);
    // 3. while the real master key still opens it
    assert.deepEqual(
      await new LocalKeyManager({ keystoreDir: copy, masterKey }).unwrapDataKey(keyRef, wrapped, ctx),
      plaintext,
    );
  });

  it('destroy overwrites and unlinks the key file, keeping only a key-less tombstone', async () => {
    const { keyRef } = await kms.createTenantKey('srv_gone');
    const id = keyRef.slice('local:'.length);
    const file = path.join(dir, `${id}.key`);
    const before = fs.readFileSync(file);
    const ino = fs.statSync(file).ino;
    // a hard link sees the same inode: it shows the bytes were overwritten in place
    const witness = path.join(root, `witness-${id}`);
    fs.linkSync(file, witness);
    await kms.destroyTenantKey(keyRef);
    assert.equal(fs.existsSync(file), false);
    assert.equal(fs.statSync(witness).ino, ino);
    const after = fs.readFileSync(witness);
    assert.equal(after.length, before.length);
    assert.ok(!after.equals(before));
    assert.ok(!after.toString('latin1').includes('wrapped'));
    fs.unlinkSync(witness);
    const tombstone = JSON.parse(fs.readFileSync(path.join(dir, `${id}.destroyed`), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(tombstone).sort(), ['destroyedAt', 'keyRef', 'v']);
    await rejectsWith(kms.generateDataKey(keyRef, { tenantId: 'srv_gone' }), 'key_destroyed');
  });

  it('a key destroyed by another process fails at once in one that had already used it', async () => {
    // The worker's children keep a key file's content between calls; the tombstone is still checked each time.
    const { keyRef } = await kms.createTenantKey('srv_elsewhere');
    const ctx = fileKeyContext('srv_elsewhere', 'fil_1');
    const { plaintext, wrapped } = await kms.generateDataKey(keyRef, ctx);
    const child = new LocalKeyManager({ keystoreDir: dir, masterKey });
    assert.deepEqual(await child.unwrapDataKey(keyRef, wrapped, ctx), plaintext);
    await new LocalKeyManager({ keystoreDir: dir, masterKey }).destroyTenantKey(keyRef);
    await rejectsWith(child.unwrapDataKey(keyRef, wrapped, ctx), 'key_destroyed');
    await rejectsWith(child.generateDataKey(keyRef, ctx), 'key_destroyed');
  });

  it('a keyRef never escapes the keystore directory', async () => {
    for (const bad of [
      'local:../../etc/passwd',
      '../x',
      'local:',
      `local:${'a'.repeat(31)}`,
      'arn:aws:kms:x',
    ]) {
      await rejectsWith(kms.generateDataKey(bad, { tenantId: 't' }), 'key_not_found');
    }
    await rejectsWith(kms.destroyTenantKey('local:../../x'), 'key_not_found');
  });

  it('refuses to start with a master key of the wrong size', () => {
    assert.throws(
      () => new LocalKeyManager({ keystoreDir: dir, masterKey: randomBytes(16) }),
      KeyManagerError,
    );
  });

  it('reports an unusable keystore directory as kms_unavailable', async () => {
    const blocker = path.join(root, 'a-file');
    fs.writeFileSync(blocker, 'x');
    const broken = new LocalKeyManager({ keystoreDir: path.join(blocker, 'keystore'), masterKey });
    await rejectsWith(broken.health(), 'kms_unavailable');
    await rejectsWith(broken.createTenantKey('srv_x'), 'kms_unavailable');
  });

  it('serves many concurrent callers from several instances over one keystore', async () => {
    const shared = path.join(root, 'shared');
    const a = new LocalKeyManager({ keystoreDir: shared, masterKey });
    const b = new LocalKeyManager({ keystoreDir: shared, masterKey });
    const refs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).createTenantKey(`srv_${i}`)),
    );
    const results = await Promise.all(
      refs.map(async ({ keyRef }, i) => {
        const ctx = fileKeyContext(`srv_${i}`, 'fil');
        const dk = await (i % 2 ? b : a).generateDataKey(keyRef, ctx);
        return (await (i % 2 ? a : b).unwrapDataKey(keyRef, dk.wrapped, ctx)).equals(dk.plaintext);
      }),
    );
    assert.ok(results.every(Boolean));
  });
});
