import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { CryptoError } from './errors';

/**
 * Chunked AES-256-GCM ("STREAM"-style) used for data at rest and inside client envelopes.
 *
 * sealed chunk = nonce (12) || ciphertext || tag (16)
 * chunk AAD    = context bytes || u32 BE chunk index || u8 final flag (1 = last chunk, else 0)
 *
 * Binding index and final flag into each chunk's AAD makes reordering, dropping, duplicating and
 * truncation (a missing final chunk) detectable, not just byte tampering.
 */

/**
 * Default plaintext bytes per chunk. 64 KiB keeps per-row storage and per-chunk latency small
 * while the fixed per-chunk cost (cipher setup, nonce, object) stays a few percent of the AES
 * work (see bench/crypto.bench.ts); larger chunks gain little and hold more plaintext in memory.
 */
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** Upper bound on a chunk's plaintext: keeps a reader's buffering bounded. */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
export const NONCE_LENGTH = 12;
export const TAG_LENGTH = 16;
/** Bytes a sealed chunk adds to its plaintext. */
export const CHUNK_OVERHEAD = NONCE_LENGTH + TAG_LENGTH;
export const KEY_LENGTH = 32;
const MAX_CHUNK_INDEX = 0xffffffff;

/** One sealed chunk as stored (e.g. one row of a file's chunk table). */
export interface EncryptedChunk {
  index: number;
  isFinal: boolean;
  sealed: Buffer;
}

export type ChunkContext = string | Uint8Array;

function contextBytes(aad: ChunkContext): Buffer {
  return typeof aad === 'string' ? Buffer.from(aad, 'utf8') : Buffer.from(aad);
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) {
    throw new CryptoError('invalid_key', `expected a ${KEY_LENGTH}-byte AES-256 key`);
  }
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index > MAX_CHUNK_INDEX) {
    throw new CryptoError('invalid_argument', 'chunk index must be an integer in [0, 2^32)');
  }
}

/** The exact AAD of one chunk (exported for other-language implementations and tests). */
export function chunkAad(aad: ChunkContext, index: number, isFinal: boolean): Buffer {
  checkIndex(index);
  const ctx = contextBytes(aad);
  const out = Buffer.allocUnsafe(ctx.length + 5);
  ctx.copy(out, 0);
  out.writeUInt32BE(index, ctx.length);
  out[ctx.length + 4] = isFinal ? 1 : 0;
  return out;
}

/**
 * Nonces come from a pooled CSPRNG draw: one randomBytes call per few hundred chunks instead of one per chunk
 * (a call costs about as much as a chunk's cipher set-up). Nonces are public and each is handed out once.
 */
const NONCE_POOL_BYTES = 512 * NONCE_LENGTH;
let noncePool = Buffer.alloc(0);
let noncePoolOffset = 0;

function freshNonce(): Buffer {
  if (noncePoolOffset + NONCE_LENGTH > noncePool.length) {
    noncePool = randomBytes(NONCE_POOL_BYTES);
    noncePoolOffset = 0;
  }
  const nonce = noncePool.subarray(noncePoolOffset, noncePoolOffset + NONCE_LENGTH);
  noncePoolOffset += NONCE_LENGTH;
  return nonce;
}

/**
 * One reusable AAD buffer per context (context || u32 index || u8 final): only its last five bytes change per
 * chunk, and setAAD copies it into the cipher at once, so no buffer is built per chunk.
 */
class ChunkAad {
  private readonly buf: Buffer;

  constructor(ctx: Buffer) {
    this.buf = Buffer.allocUnsafe(ctx.length + 5);
    ctx.copy(this.buf, 0);
  }

  of(index: number, isFinal: boolean): Buffer {
    const at = this.buf.length - 5;
    this.buf.writeUInt32BE(index, at);
    this.buf[at + 4] = isFinal ? 1 : 0;
    return this.buf;
  }
}

function sealWithContext(
  key: Uint8Array,
  aad: ChunkAad,
  index: number,
  isFinal: boolean,
  plaintext: Uint8Array,
  nonce?: Uint8Array,
): Buffer {
  const iv = nonce ?? freshNonce();
  if (iv.length !== NONCE_LENGTH) throw new CryptoError('invalid_argument', 'nonce must be 12 bytes');
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad.of(index, isFinal));
  const body = cipher.update(plaintext);
  // GCM is a stream mode: final() only computes the tag and never returns bytes.
  if (cipher.final().length !== 0) throw new CryptoError('invalid_argument', 'unexpected cipher output');
  const out = Buffer.allocUnsafe(NONCE_LENGTH + body.length + TAG_LENGTH);
  out.set(iv, 0);
  out.set(body, NONCE_LENGTH);
  out.set(cipher.getAuthTag(), NONCE_LENGTH + body.length);
  return out;
}

function tryOpen(
  key: Uint8Array,
  aad: ChunkAad,
  index: number,
  isFinal: boolean,
  sealed: Uint8Array,
): Buffer | null {
  const nonce = sealed.subarray(0, NONCE_LENGTH);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad.of(index, isFinal));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
  const out = decipher.update(sealed.subarray(NONCE_LENGTH, sealed.length - TAG_LENGTH));
  try {
    // GCM: final() checks the tag and returns no bytes
    decipher.final();
    return out;
  } catch {
    out.fill(0); // unauthenticated plaintext never leaves
    return null;
  }
}

function openWithContext(
  key: Uint8Array,
  ctx: ChunkAad,
  index: number,
  isFinal: boolean,
  sealed: Uint8Array,
): Buffer {
  if (!(sealed instanceof Uint8Array) || sealed.length < CHUNK_OVERHEAD) {
    throw new CryptoError('ciphertext_tampered', `chunk ${index} is shorter than nonce and tag`);
  }
  const plain = tryOpen(key, ctx, index, isFinal, sealed);
  if (plain) return plain;
  throw new CryptoError(diagnose(key, ctx, index, isFinal, sealed), `chunk ${index} failed authentication`);
}

/**
 * Failure path only: find out *why* a chunk does not open at its claimed position, to give a
 * precise code. A chunk that opens as non-final where the final one was expected means the tail
 * was dropped; one that opens under a nearby index means chunks were moved.
 */
function diagnose(
  key: Uint8Array,
  ctx: ChunkAad,
  index: number,
  isFinal: boolean,
  sealed: Uint8Array,
): 'ciphertext_tampered' | 'ciphertext_truncated' | 'ciphertext_reordered' | 'ciphertext_trailing_data' {
  const wipe = (b: Buffer | null): boolean => (b ? (b.fill(0), true) : false);
  if (wipe(tryOpen(key, ctx, index, !isFinal, sealed))) {
    return isFinal ? 'ciphertext_truncated' : 'ciphertext_trailing_data';
  }
  const window = 8;
  for (let j = Math.max(0, index - window); j <= Math.min(MAX_CHUNK_INDEX, index + window); j++) {
    if (j === index) continue;
    if (wipe(tryOpen(key, ctx, j, false, sealed)) || wipe(tryOpen(key, ctx, j, true, sealed))) {
      return 'ciphertext_reordered';
    }
  }
  return 'ciphertext_tampered';
}

/** Seals one chunk under a 32-byte key. `nonce` is for test vectors only; leave it random. */
export function sealChunk(
  key: Uint8Array,
  aad: ChunkContext,
  index: number,
  isFinal: boolean,
  plaintext: Uint8Array,
  nonce?: Uint8Array,
): Buffer {
  checkKey(key);
  checkIndex(index);
  return sealWithContext(key, new ChunkAad(contextBytes(aad)), index, isFinal, plaintext, nonce);
}

/**
 * Opens one chunk; throws CryptoError ('ciphertext_tampered' | 'ciphertext_truncated' |
 * 'ciphertext_reordered' | 'ciphertext_trailing_data') instead of returning unauthenticated bytes.
 */
export function openChunk(
  key: Uint8Array,
  aad: ChunkContext,
  index: number,
  isFinal: boolean,
  sealed: Uint8Array,
): Buffer {
  checkKey(key);
  checkIndex(index);
  return openWithContext(key, new ChunkAad(contextBytes(aad)), index, isFinal, sealed);
}

/** Splits plaintext into chunks and seals each (small objects; use the streams for large ones). */
export function encryptChunks(
  key: Uint8Array,
  aad: ChunkContext,
  plaintext: Uint8Array,
  chunkSize = DEFAULT_CHUNK_SIZE,
): EncryptedChunk[] {
  checkKey(key);
  checkChunkSize(chunkSize);
  const ctx = new ChunkAad(contextBytes(aad));
  const chunks: EncryptedChunk[] = [];
  let offset = 0;
  let index = 0;
  do {
    const end = Math.min(plaintext.length, offset + chunkSize);
    const isFinal = end === plaintext.length;
    checkIndex(index);
    chunks.push({
      index,
      isFinal,
      sealed: sealWithContext(key, ctx, index, isFinal, plaintext.subarray(offset, end)),
    });
    offset = end;
    index++;
  } while (offset < plaintext.length);
  return chunks;
}

/** Opens a complete, ordered list of chunks (checks order, final chunk and trailing data). */
export function decryptChunks(key: Uint8Array, aad: ChunkContext, chunks: readonly EncryptedChunk[]): Buffer {
  checkKey(key);
  const ctx = new ChunkAad(contextBytes(aad));
  const parts: Buffer[] = [];
  let sawFinal = false;
  chunks.forEach((chunk, expected) => {
    if (sawFinal) throw new CryptoError('ciphertext_trailing_data', 'chunk after the final chunk');
    if (chunk.index !== expected) throw new CryptoError('ciphertext_reordered', `expected chunk ${expected}`);
    parts.push(openWithContext(key, ctx, expected, chunk.isFinal, chunk.sealed));
    sawFinal = chunk.isFinal;
  });
  if (!sawFinal) throw new CryptoError('ciphertext_truncated', 'the final chunk is missing');
  return Buffer.concat(parts);
}

function checkChunkSize(chunkSize: number): void {
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new CryptoError('invalid_argument', `chunk size must be an integer in [1, ${MAX_CHUNK_SIZE}]`);
  }
}

/**
 * Accumulates incoming buffers and hands out exact-size slices without copying when a slice lies
 * within one buffer.
 */
export class ByteQueue {
  private parts: Buffer[] = [];
  private head = 0; // offset into parts[0]
  length = 0;

  push(buf: Buffer): void {
    if (buf.length === 0) return;
    this.parts.push(buf);
    this.length += buf.length;
  }

  /** Removes and returns exactly n bytes (n <= length). */
  take(n: number): Buffer {
    const first = this.parts[0];
    if (first !== undefined && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) {
        this.parts.shift();
        this.head = 0;
      }
      this.length -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const part = this.parts[0];
      const count = Math.min(n - filled, part.length - this.head);
      part.copy(out, filled, this.head, this.head + count);
      filled += count;
      this.head += count;
      if (this.head === part.length) {
        this.parts.shift();
        this.head = 0;
      }
    }
    this.length -= n;
    return out;
  }
}

function toBuffer(chunk: unknown, encoding: BufferEncoding): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding);
  throw new CryptoError('invalid_argument', 'expected bytes');
}

/**
 * Byte stream in, `EncryptedChunk` objects out. Holds back at most one chunk of plaintext (it
 * must know whether more follows to set the final flag) and buffers up to two chunks of writes while
 * its reader is slow, so memory stays bounded by a few chunkSizes plus whatever the writer hands it
 * at once. The key is copied and the copy zeroed at the end.
 */
export function createEncryptStream(
  key: Uint8Array,
  aad: ChunkContext,
  chunkSize = DEFAULT_CHUNK_SIZE,
): Transform {
  checkKey(key);
  checkChunkSize(chunkSize);
  const ownKey = Buffer.from(key);
  const ctx = new ChunkAad(contextBytes(aad));
  const queue = new ByteQueue();
  let index = 0;
  const seal = (plaintext: Buffer, isFinal: boolean): EncryptedChunk => {
    checkIndex(index);
    const sealed = sealWithContext(ownKey, ctx, index, isFinal, plaintext);
    return { index: index++, isFinal, sealed };
  };
  return new Transform({
    writableObjectMode: false,
    readableObjectMode: true,
    // One sealed chunk waiting downstream is enough to keep the writer busy; more only lengthens the
    // buffers' lives (they then outlive young-generation GCs and pile up until a full GC).
    readableHighWaterMark: 1,
    // Room for two chunks of writes: with the default 16 KiB mark every 64 KiB write waited for 'drain'
    // (one more tick and pause/resume per write) although the transform takes it at once.
    writableHighWaterMark: 2 * chunkSize,
    transform(chunk: unknown, encoding: BufferEncoding, callback: TransformCallback) {
      try {
        queue.push(toBuffer(chunk, encoding));
        // strictly greater: the last full chunk may be the final one
        while (queue.length > chunkSize) this.push(seal(queue.take(chunkSize), false));
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        this.push(seal(queue.take(queue.length), true));
        ownKey.fill(0);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    destroy(err: Error | null, callback: (error: Error | null) => void) {
      ownKey.fill(0);
      callback(err);
    },
  });
}

/**
 * `EncryptedChunk` objects in (in index order), plaintext bytes out. Fails with a CryptoError
 * on tampering, reordering, a missing final chunk or data after it. Plaintext of the chunks
 * before a failure has already been emitted: a consumer must discard its output if the stream
 * errors.
 */
export function createDecryptStream(key: Uint8Array, aad: ChunkContext): Transform {
  checkKey(key);
  const ownKey = Buffer.from(key);
  const ctx = new ChunkAad(contextBytes(aad));
  let expected = 0;
  let sawFinal = false;
  return new Transform({
    writableObjectMode: true,
    readableObjectMode: false,
    transform(chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        const c = chunk as Partial<EncryptedChunk> | null;
        if (
          !c ||
          typeof c.index !== 'number' ||
          typeof c.isFinal !== 'boolean' ||
          !(c.sealed instanceof Uint8Array)
        ) {
          throw new CryptoError('invalid_argument', 'expected {index, isFinal, sealed} objects');
        }
        if (sawFinal) throw new CryptoError('ciphertext_trailing_data', 'chunk after the final chunk');
        if (c.index !== expected) {
          throw new CryptoError('ciphertext_reordered', `expected chunk ${expected}, got ${c.index}`);
        }
        const plain = openWithContext(ownKey, ctx, expected, c.isFinal, c.sealed);
        expected++;
        sawFinal = c.isFinal;
        callback(null, plain);
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback: TransformCallback) {
      ownKey.fill(0);
      if (!sawFinal) callback(new CryptoError('ciphertext_truncated', 'the final chunk is missing'));
      else callback();
    },
    destroy(err: Error | null, callback: (error: Error | null) => void) {
      ownKey.fill(0);
      callback(err);
    },
  });
}
