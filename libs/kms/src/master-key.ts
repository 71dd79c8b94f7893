import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { KeyManagerError } from './errors';

export interface LoadMasterKeyOptions {
  /** The key itself (e.g. HEARTH_MASTER_KEY): 32 bytes as 64 hex chars or base64. Wins over the file. */
  envValue?: string;
  /** A file holding the key in the same text form (e.g. HEARTH_MASTER_KEY_FILE, a docker secret). */
  filePath?: string;
  /** Generate the file (mode 0600) when it is missing: the laptop default, never for production. */
  createIfMissing?: boolean;
}

export interface LoadedMasterKey {
  key: Buffer;
  source: 'env' | 'file' | 'generated';
}

/** Parses 32 bytes from 64 hex chars (0x optional) or base64 / base64url. */
export function parseMasterKey(text: string, where: string): Buffer {
  const value = text.trim();
  const hex = value.replace(/^0x/i, '');
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(hex)) key = Buffer.from(hex, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(value))
    key = Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
  if (!key || key.length !== 32) {
    throw new KeyManagerError(
      'kms_unavailable',
      `${where}: master key must be 32 bytes as 64 hex characters or base64`,
    );
  }
  return key;
}

/**
 * Loads the local key manager's master key, from the environment or a file only: never from
 * Postgres, so a database dump alone opens nothing.
 */
export async function loadMasterKeyWithSource(options: LoadMasterKeyOptions): Promise<LoadedMasterKey> {
  if (options.envValue !== undefined && options.envValue.trim() !== '') {
    return { key: parseMasterKey(options.envValue, 'HEARTH_MASTER_KEY'), source: 'env' };
  }
  const file = options.filePath;
  if (!file)
    throw new KeyManagerError(
      'kms_unavailable',
      'no master key configured (set HEARTH_MASTER_KEY or HEARTH_MASTER_KEY_FILE)',
    );
  try {
    return { key: parseMasterKey(await fs.readFile(file, 'utf8'), file), source: 'file' };
  } catch (err) {
    const missing =
      typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT';
    if (!missing) {
      if (err instanceof KeyManagerError) throw err;
      throw new KeyManagerError('kms_unavailable', `cannot read master key file ${file}`, { cause: err });
    }
    if (!options.createIfMissing)
      throw new KeyManagerError('kms_unavailable', `master key file ${file} does not exist`);
  }
  const key = randomBytes(32);
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // Written whole to a private temporary file, then linked into place: the key file either does not exist or
  // holds a whole key, even if this process dies mid-write or another one starts at the same moment.
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await fs.writeFile(temporary, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    // link fails with EEXIST when another process created the file meanwhile: use theirs, never overwrite it.
    await fs.link(temporary, file);
    return { key, source: 'generated' };
  } catch (err) {
    key.fill(0);
    if (typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === 'EEXIST') {
      return { key: parseMasterKey(await fs.readFile(file, 'utf8'), file), source: 'file' };
    }
    throw new KeyManagerError('kms_unavailable', `cannot create master key file ${file}`, { cause: err });
  } finally {
    await fs.rm(temporary, { force: true });
  }
}

/** The 32-byte master key (see loadMasterKeyWithSource). */
export async function loadMasterKey(options: LoadMasterKeyOptions): Promise<Buffer> {
  return (await loadMasterKeyWithSource(options)).key;
}
