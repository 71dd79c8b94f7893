import { createDecipheriv, pbkdf2Sync, scryptSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { keccak256 } from 'viem';

/** A bad command line or input file: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type PrivateKey = `0x${string}`;

/** A raw private key from a file: 64 hex digits, with or without 0x, surrounding whitespace ignored. */
export function readKeyFile(path: string): PrivateKey {
  const text = readFileSync(path, 'utf8').trim();
  const hex = text.startsWith('0x') ? text.slice(2) : text;
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new UsageError(`${path} does not hold a 32-byte hex private key`);
  return `0x${hex.toLowerCase()}`;
}

interface KeystoreV3 {
  version: number;
  crypto?: KeystoreCrypto;
  Crypto?: KeystoreCrypto;
}
interface KeystoreCrypto {
  cipher: string;
  ciphertext: string;
  cipherparams: { iv: string };
  kdf: 'scrypt' | 'pbkdf2';
  kdfparams: { dklen: number; salt: string; n?: number; r?: number; p?: number; c?: number; prf?: string };
  mac: string;
}

/** Decrypts an Ethereum V3 keystore (Web3 Secret Storage: scrypt or pbkdf2, aes-128-ctr, keccak MAC). */
export function decryptKeystore(json: string, password: string): PrivateKey {
  let ks: KeystoreV3;
  try {
    ks = JSON.parse(json) as KeystoreV3;
  } catch {
    throw new UsageError('the keystore is not JSON');
  }
  const c = ks.crypto ?? ks.Crypto;
  if (ks.version !== 3 || !c) throw new UsageError('not a version 3 keystore');
  if (c.cipher !== 'aes-128-ctr') throw new UsageError(`unsupported keystore cipher ${c.cipher}`);
  const salt = Buffer.from(c.kdfparams.salt, 'hex');
  const dklen = c.kdfparams.dklen;
  let derived: Buffer;
  if (c.kdf === 'scrypt') {
    const { n = 262144, r = 8, p = 1 } = c.kdfparams;
    derived = scryptSync(password.normalize('NFKC'), salt, dklen, {
      N: n,
      r,
      p,
      maxmem: 256 * n * r + 1024 * 1024,
    });
  } else if (c.kdf === 'pbkdf2') {
    if (c.kdfparams.prf !== 'hmac-sha256') throw new UsageError(`unsupported pbkdf2 prf ${c.kdfparams.prf}`);
    derived = pbkdf2Sync(password.normalize('NFKC'), salt, c.kdfparams.c ?? 262144, dklen, 'sha256');
  } else {
    throw new UsageError(`unsupported keystore kdf ${String(c.kdf)}`);
  }
  const ciphertext = Buffer.from(c.ciphertext, 'hex');
  const mac = keccak256(Buffer.concat([derived.subarray(16, 32), ciphertext])).slice(2);
  if (mac !== c.mac.toLowerCase()) throw new UsageError('wrong keystore password (MAC mismatch)');
  const decipher = createDecipheriv(
    'aes-128-ctr',
    derived.subarray(0, 16),
    Buffer.from(c.cipherparams.iv, 'hex'),
  );
  const key = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  derived.fill(0);
  if (key.length !== 32) throw new UsageError('the keystore does not hold a 32-byte key');
  const out: PrivateKey = `0x${key.toString('hex')}`;
  key.fill(0);
  return out;
}

/** Reads a password without echo from the terminal (stdin must be a TTY). */
export async function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY)
    throw new UsageError('no keystore password: give --password-file or HEARTH_KEYSTORE_PASSWORD');
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(new UsageError('cancelled'));
          return;
        }
        if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}

export interface KeyOptions {
  keyFile?: string;
  keystore?: string;
  passwordFile?: string;
}

/** The owner's private key from --key-file or --keystore (never from an argument: it would show in `ps`). */
export async function loadPrivateKey(opts: KeyOptions): Promise<PrivateKey> {
  if (opts.keyFile && opts.keystore) throw new UsageError('give --key-file or --keystore, not both');
  if (opts.keyFile) return readKeyFile(opts.keyFile);
  if (opts.keystore) {
    const json = readFileSync(opts.keystore, 'utf8');
    const password = opts.passwordFile
      ? readFileSync(opts.passwordFile, 'utf8').replace(/\r?\n$/, '')
      : (process.env.HEARTH_KEYSTORE_PASSWORD ?? (await promptHidden('keystore password: ')));
    return decryptKeystore(json, password);
  }
  throw new UsageError('this command signs: give --key-file FILE or --keystore FILE');
}
