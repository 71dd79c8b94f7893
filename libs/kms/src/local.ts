import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { accessSync, promises as fs, constants as fsConstants } from 'node:fs';
import * as path from 'node:path';
import { canonicalContext, checkTenantId } from './context';
import { KeyManagerError } from './errors';
import { DATA_KEY_BYTES, type EncryptionContext, type KeyManager, MAX_SECRET_BYTES } from './types';

export interface LocalKeyManagerOptions {
  /** Directory of this key manager alone (never inside Postgres' data): one file per tenant key. */
  keystoreDir: string;
  /** 32-byte master key from the environment or a file (see loadMasterKey); copied, never stored. */
  masterKey: Buffer;
}

const MAX_CACHED_KEY_FILES = 10_000;
const KEY_REF_PATTERN = /^local:([0-9a-f]{32})$/;
const NONCE = 12;
const TAG = 16;
const PURPOSE_DATA_KEY = 0x01;
const PURPOSE_SECRET = 0x02;
const BLOB_VERSION = 0x01;
const META_FILE = 'keystore.json';
const CHECK_PLAINTEXT = Buffer.from('hearth keystore check v1');

interface KeyFile {
  v: 1;
  keyRef: string;
  tenantId: string;
  createdAt: string;
  /** nonce || AES-256-GCM(master key, tenant key) || tag, AAD binds keyRef and tenantId */
  wrapped: string;
}

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** Returns null on authentication failure: callers choose the error code. */
function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer | null {
  if (sealed.length < NONCE + TAG) return null;
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE), { authTagLength: TAG });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  const out = decipher.update(sealed.subarray(NONCE, sealed.length - TAG));
  try {
    return Buffer.concat([out, decipher.final()]);
  } catch {
    return null;
  } finally {
    out.fill(0);
  }
}

function tenantKeyAad(keyRef: string, tenantId: string): Buffer {
  return Buffer.from(`hearth:local-kms:tenant-key:v1\0${keyRef}\0${tenantId}`, 'utf8');
}

function blobAad(purpose: number, keyRef: string, context: EncryptionContext): Buffer {
  return Buffer.concat([
    Buffer.from(`hearth:local-kms:blob:v1\0`, 'utf8'),
    Buffer.from([purpose]),
    Buffer.from(`${keyRef}\0`, 'utf8'),
    canonicalContext(context),
  ]);
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

/**
 * Embedded key manager (the default). Tenant keys are random 256-bit keys, each in its own file
 * in `keystoreDir`, wrapped under the master key. Every call checks for the key's tombstone, so a
 * destroy done by one process (gateway) holds at once for every other (workers), and no unwrapped
 * tenant key outlives the call that needed it. Only a key file's content (the tenant key wrapped
 * under the master key, which never changes once written) is kept between calls: re-reading it
 * cost four file-system round trips per call, three calls per operation.
 *
 * Wrapped blob (data keys and secrets): version (1) || purpose (1) || nonce (12) || ct || tag (16),
 * AAD = "hearth:local-kms:blob:v1\0" || purpose || keyRef || "\0" || canonical context.
 */
export class LocalKeyManager implements KeyManager {
  readonly provider = 'local' as const;
  private readonly dir: string;
  private readonly masterKey: Buffer;
  private ready: Promise<void> | undefined;
  /** keyRef → its key file as read once (wrapped material only; bounded). */
  private readonly keyFiles = new Map<string, KeyFile>();

  constructor(options: LocalKeyManagerOptions) {
    if (!Buffer.isBuffer(options.masterKey) || options.masterKey.length !== 32) {
      throw new KeyManagerError('kms_unavailable', 'local key manager needs a 32-byte master key');
    }
    if (!options.keystoreDir)
      throw new KeyManagerError('kms_unavailable', 'local key manager needs a keystore directory');
    this.dir = path.resolve(options.keystoreDir);
    this.masterKey = Buffer.from(options.masterKey);
  }

  async createTenantKey(tenantId: string): Promise<{ keyRef: string }> {
    checkTenantId(tenantId);
    await this.ensureReady();
    const keyRef = `local:${randomBytes(16).toString('hex')}`;
    const tenantKey = randomBytes(32);
    try {
      const file: KeyFile = {
        v: 1,
        keyRef,
        tenantId,
        createdAt: new Date().toISOString(),
        wrapped: seal(this.masterKey, tenantKey, tenantKeyAad(keyRef, tenantId)).toString('base64'),
      };
      await this.writeAtomic(this.keyPath(keyRef), JSON.stringify(file), false);
    } finally {
      tenantKey.fill(0);
    }
    return { keyRef };
  }

  async generateDataKey(
    keyRef: string,
    context: EncryptionContext,
  ): Promise<{ plaintext: Buffer; wrapped: Buffer }> {
    const aad = blobAad(PURPOSE_DATA_KEY, keyRef, context);
    const plaintext = randomBytes(DATA_KEY_BYTES);
    try {
      const wrapped = await this.withTenantKey(keyRef, (tenantKey) =>
        this.wrap(tenantKey, PURPOSE_DATA_KEY, plaintext, aad),
      );
      return { plaintext, wrapped };
    } catch (err) {
      plaintext.fill(0);
      throw err;
    }
  }

  async unwrapDataKey(keyRef: string, wrapped: Buffer, context: EncryptionContext): Promise<Buffer> {
    const key = await this.unwrapBlob(keyRef, PURPOSE_DATA_KEY, wrapped, context);
    if (key.length !== DATA_KEY_BYTES) {
      key.fill(0);
      throw new KeyManagerError('unwrap_failed', 'wrapped data key has the wrong length');
    }
    return key;
  }

  async encrypt(keyRef: string, plaintext: Buffer, context: EncryptionContext): Promise<Buffer> {
    if (!Buffer.isBuffer(plaintext) || plaintext.length === 0 || plaintext.length > MAX_SECRET_BYTES) {
      throw new KeyManagerError('invalid_argument', `secret must be 1..${MAX_SECRET_BYTES} bytes`);
    }
    const aad = blobAad(PURPOSE_SECRET, keyRef, context);
    return this.withTenantKey(keyRef, (tenantKey) => this.wrap(tenantKey, PURPOSE_SECRET, plaintext, aad));
  }

  decrypt(keyRef: string, ciphertext: Buffer, context: EncryptionContext): Promise<Buffer> {
    return this.unwrapBlob(keyRef, PURPOSE_SECRET, ciphertext, context);
  }

  async destroyTenantKey(keyRef: string): Promise<void> {
    const file = this.keyPath(keyRef);
    await this.ensureReady();
    this.keyFiles.delete(keyRef);
    const tombstone = this.tombstonePath(keyRef);
    let size: number;
    try {
      size = (await fs.stat(file)).size;
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw this.unavailable(err);
      if (await this.exists(tombstone)) return; // already destroyed: idempotent
      throw new KeyManagerError('key_not_found', `no tenant key ${keyRef}`);
    }
    try {
      // tombstone first: from here on every read reports key_destroyed, even if we crash below
      await this.writeAtomic(
        tombstone,
        JSON.stringify({ v: 1, keyRef, destroyedAt: new Date().toISOString() }),
        true,
      );
      // overwrite in place before unlinking, so the wrapped key is not left in freed blocks
      const handle = await fs.open(file, 'r+');
      try {
        await handle.write(randomBytes(Math.max(size, 1)), 0, Math.max(size, 1), 0);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.unlink(file);
      await this.syncDir();
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  async health(): Promise<void> {
    await this.ensureReady();
    const probe = path.join(this.dir, `.probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await fs.writeFile(probe, 'ok', { mode: 0o600 });
      await fs.unlink(probe);
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  // --- internals ---

  private wrap(tenantKey: Buffer, purpose: number, plaintext: Buffer, aad: Buffer): Buffer {
    return Buffer.concat([Buffer.from([BLOB_VERSION, purpose]), seal(tenantKey, plaintext, aad)]);
  }

  private async unwrapBlob(
    keyRef: string,
    purpose: number,
    blob: Buffer,
    context: EncryptionContext,
  ): Promise<Buffer> {
    const aad = blobAad(purpose, keyRef, context);
    if (!Buffer.isBuffer(blob)) throw new KeyManagerError('invalid_argument', 'ciphertext must be a Buffer');
    return this.withTenantKey(keyRef, (tenantKey) => {
      const out =
        blob.length > 2 && blob[0] === BLOB_VERSION && blob[1] === purpose
          ? open(tenantKey, blob.subarray(2), aad)
          : null;
      if (!out) {
        throw new KeyManagerError(
          'unwrap_failed',
          'cannot unwrap: wrong key, wrong encryption context or altered ciphertext',
        );
      }
      return out;
    });
  }

  /** Reads and unwraps the tenant key for the duration of `fn`, then zeroes it. */
  private async withTenantKey<T>(keyRef: string, fn: (tenantKey: Buffer) => T): Promise<T> {
    const file = this.keyPath(keyRef);
    await this.ensureReady();
    if (this.tombstoneExists(keyRef)) {
      throw new KeyManagerError('key_destroyed', `tenant key ${keyRef} was destroyed`);
    }
    const parsed = this.keyFiles.get(keyRef) ?? (await this.readKeyFile(keyRef, file));
    const tenantKey = open(
      this.masterKey,
      Buffer.from(parsed.wrapped, 'base64'),
      tenantKeyAad(keyRef, parsed.tenantId),
    );
    if (!tenantKey) {
      throw new KeyManagerError(
        'kms_unavailable',
        `cannot unwrap tenant key ${keyRef}: wrong master key or altered keystore`,
      );
    }
    try {
      return fn(tenantKey);
    } finally {
      tenantKey.fill(0);
    }
  }

  private async readKeyFile(keyRef: string, file: string): Promise<KeyFile> {
    let raw: string;
    try {
      raw = await fs.readFile(file, 'utf8');
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw this.unavailable(err);
      if (await this.exists(this.tombstonePath(keyRef))) {
        throw new KeyManagerError('key_destroyed', `tenant key ${keyRef} was destroyed`);
      }
      throw new KeyManagerError('key_not_found', `no tenant key ${keyRef}`);
    }
    let parsed: KeyFile;
    try {
      parsed = JSON.parse(raw) as KeyFile;
    } catch (err) {
      throw new KeyManagerError('kms_unavailable', `key file for ${keyRef} is corrupt`, { cause: err });
    }
    if (
      parsed.keyRef !== keyRef ||
      typeof parsed.wrapped !== 'string' ||
      typeof parsed.tenantId !== 'string'
    ) {
      throw new KeyManagerError('kms_unavailable', `key file for ${keyRef} is corrupt`);
    }
    if (this.keyFiles.size >= MAX_CACHED_KEY_FILES) this.keyFiles.clear();
    this.keyFiles.set(keyRef, parsed);
    return parsed;
  }

  private keyPath(keyRef: string): string {
    return path.join(this.dir, `${this.keyId(keyRef)}.key`);
  }

  private tombstonePath(keyRef: string): string {
    return path.join(this.dir, `${this.keyId(keyRef)}.destroyed`);
  }

  /** Strict format: a keyRef never becomes a path outside the keystore. */
  private keyId(keyRef: string): string {
    const match = typeof keyRef === 'string' ? KEY_REF_PATTERN.exec(keyRef) : null;
    if (!match) throw new KeyManagerError('key_not_found', 'not a local key reference');
    return match[1];
  }

  /** Creates the keystore on first use and checks the master key against it. */
  private ensureReady(): Promise<void> {
    this.ready ??= this.init().catch((err: unknown) => {
      this.ready = undefined; // let a later call retry (e.g. the volume was not mounted yet)
      throw err;
    });
    return this.ready;
  }

  private async init(): Promise<void> {
    const metaPath = path.join(this.dir, META_FILE);
    try {
      await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
      if (!(await this.exists(metaPath))) {
        const check = seal(this.masterKey, CHECK_PLAINTEXT, Buffer.from(META_FILE)).toString('base64');
        await this.writeAtomic(
          metaPath,
          JSON.stringify({ v: 1, createdAt: new Date().toISOString(), check }),
          false,
          true,
        );
      }
    } catch (err) {
      throw this.unavailable(err);
    }
    let check: unknown;
    try {
      check = (JSON.parse(await fs.readFile(metaPath, 'utf8')) as { check?: unknown }).check;
    } catch (err) {
      throw this.unavailable(err);
    }
    const opened =
      typeof check === 'string'
        ? open(this.masterKey, Buffer.from(check, 'base64'), Buffer.from(META_FILE))
        : null;
    if (!opened?.equals(CHECK_PLAINTEXT)) {
      throw new KeyManagerError(
        'kms_unavailable',
        `the master key does not match the keystore in ${this.dir}`,
      );
    }
  }

  /** Write to a temp file (0600), fsync, then rename (or link when it must not replace). */
  private async writeAtomic(
    target: string,
    content: string,
    replace: boolean,
    ignoreExisting = false,
  ): Promise<void> {
    const tmp = `${target}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    const handle = await fs.open(tmp, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, 0o600);
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      if (replace) await fs.rename(tmp, target);
      else {
        try {
          await fs.link(tmp, target); // fails if target exists: never overwrite a key
        } catch (err) {
          if (!(ignoreExisting && isErrno(err, 'EEXIST'))) throw err;
        }
        await fs.unlink(tmp);
      }
    } catch (err) {
      await fs.unlink(tmp).catch(() => undefined);
      throw err;
    }
    await this.syncDir();
  }

  private async syncDir(): Promise<void> {
    const handle = await fs.open(this.dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /**
   * The per-call tombstone check, synchronous on purpose: one stat of a small local directory costs ~10 µs
   * inline, ~75 µs of CPU through the thread pool, and it runs three times per operation.
   */
  private tombstoneExists(keyRef: string): boolean {
    try {
      accessSync(this.tombstonePath(keyRef));
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw this.unavailable(err);
    }
  }

  private async exists(file: string): Promise<boolean> {
    try {
      await fs.access(file);
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw this.unavailable(err);
    }
  }

  private unavailable(err: unknown): KeyManagerError {
    if (err instanceof KeyManagerError) return err;
    const code = typeof err === 'object' && err !== null ? (err as NodeJS.ErrnoException).code : undefined;
    return new KeyManagerError('kms_unavailable', `keystore ${this.dir} is unusable (${code ?? 'error'})`, {
      cause: err,
    });
  }
}
