import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import {
  CHUNK_OVERHEAD,
  type CryptoErrorCode,
  DEFAULT_CHUNK_SIZE,
  type EncryptedChunk,
  createDecryptStream,
  createEncryptStream,
  decryptChunks,
  encryptChunks,
  openChunk,
  sealChunk,
} from './index';
import { CryptoError } from './errors';

/** A caller-chosen context, as libs/blobs gives each file's chunks. */
const fileChunkContext = (serverId: string, fileId: string): string => `hearth:file:${serverId}:${fileId}`;
const AAD = fileChunkContext('srv_test', 'fil_test');

async function collectChunks(
  key: Buffer,
  input: Buffer,
  chunkSize?: number,
  pieceSize = 10_000,
): Promise<EncryptedChunk[]> {
  const chunks: EncryptedChunk[] = [];
  const pieces = function* (): Generator<Buffer> {
    for (let i = 0; i < input.length; i += pieceSize) yield input.subarray(i, i + pieceSize);
  };
  await pipeline(
    Readable.from(pieces()),
    createEncryptStream(key, AAD, chunkSize),
    new Writable({
      objectMode: true,
      write(chunk: EncryptedChunk, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    }),
  );
  return chunks;
}

async function decryptAll(key: Buffer, chunks: EncryptedChunk[], aad = AAD): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    createDecryptStream(key, aad),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        parts.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

async function rejectsWith(promise: Promise<unknown>, code: CryptoErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof CryptoError, `expected CryptoError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

describe('sealChunk / openChunk', () => {
  const key = randomBytes(32);

  it('round-trips and adds exactly nonce + tag', () => {
    const plain = Buffer.from('hello hearth');
    const sealed = sealChunk(key, AAD, 3, true, plain);
    assert.equal(sealed.length, plain.length + CHUNK_OVERHEAD);
    assert.deepEqual(openChunk(key, AAD, 3, true, sealed), plain);
  });

  it('uses a fresh nonce for every seal', () => {
    const a = sealChunk(key, AAD, 0, true, Buffer.from('x'));
    const b = sealChunk(key, AAD, 0, true, Buffer.from('x'));
    assert.notDeepEqual(a, b);
  });

  it('refuses a wrong context, index, final flag or key with a typed error', () => {
    const sealed = sealChunk(key, AAD, 0, false, Buffer.from('secret'));
    const codeOf = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        assert.ok(err instanceof CryptoError);
        return err.code;
      }
      return 'no error';
    };
    assert.equal(
      codeOf(() => openChunk(key, fileChunkContext('srv_test', 'fil_other'), 0, false, sealed)),
      'ciphertext_tampered',
    );
    assert.equal(
      codeOf(() => openChunk(randomBytes(32), AAD, 0, false, sealed)),
      'ciphertext_tampered',
    );
    assert.equal(
      codeOf(() => openChunk(key, AAD, 1, false, sealed)),
      'ciphertext_reordered',
    );
    assert.equal(
      codeOf(() => openChunk(key, AAD, 0, true, sealed)),
      'ciphertext_truncated',
    );
    assert.equal(
      codeOf(() => openChunk(key, AAD, 0, false, sealed.subarray(0, 20))),
      'ciphertext_tampered',
    );
    assert.equal(
      codeOf(() => openChunk(Buffer.alloc(16), AAD, 0, false, sealed)),
      'invalid_key',
    );
  });
});

describe('chunk streams', () => {
  const key = randomBytes(32);
  const sizes: Array<[string, number]> = [
    ['empty', 0],
    ['1 byte', 1],
    ['exactly one chunk', DEFAULT_CHUNK_SIZE],
    ['one chunk plus one byte', DEFAULT_CHUNK_SIZE + 1],
    ['multi-chunk', 3 * DEFAULT_CHUNK_SIZE + 12_345],
    ['5 MiB', 5 * 1024 * 1024],
  ];
  for (const [name, size] of sizes) {
    it(`round-trips ${name} (${size} bytes)`, async () => {
      const input = randomBytes(size);
      const chunks = await collectChunks(key, input);
      const expectedCount = Math.max(1, Math.ceil(size / DEFAULT_CHUNK_SIZE));
      assert.equal(chunks.length, expectedCount);
      chunks.forEach((c, i) => {
        assert.equal(c.index, i);
        assert.equal(c.isFinal, i === chunks.length - 1);
      });
      assert.deepEqual(await decryptAll(key, chunks), input);
      assert.deepEqual(decryptChunks(key, AAD, chunks), input);
    });
  }

  it('produces the same chunk boundaries whatever the writes look like', async () => {
    const input = randomBytes(200_000);
    for (const piece of [1_000, 65_536, 70_001, 200_000]) {
      const chunks = await collectChunks(key, input, 50_000, piece);
      assert.deepEqual(
        chunks.map((c) => c.sealed.length),
        [50_000, 50_000, 50_000, 50_000].map((n) => n + CHUNK_OVERHEAD),
      );
      assert.deepEqual(await decryptAll(key, chunks), input);
    }
  });

  it('encryptChunks matches the stream layout', () => {
    const input = randomBytes(100_000);
    const chunks = encryptChunks(key, AAD, input, 40_000);
    assert.deepEqual(
      chunks.map((c) => [c.index, c.isFinal, c.sealed.length]),
      [
        [0, false, 40_028],
        [1, false, 40_028],
        [2, true, 20_028],
      ],
    );
    assert.deepEqual(decryptChunks(key, AAD, chunks), input);
  });

  describe('attacks on stored chunks', () => {
    const input = randomBytes(4 * 1000 + 500);
    const fresh = (): EncryptedChunk[] => encryptChunks(key, AAD, input, 1000);

    it('a flipped byte → ciphertext_tampered', async () => {
      const chunks = fresh();
      chunks[2].sealed[100] ^= 0x01;
      await rejectsWith(decryptAll(key, chunks), 'ciphertext_tampered');
    });

    it('a flipped tag byte → ciphertext_tampered', async () => {
      const chunks = fresh();
      const last = chunks[4];
      last.sealed[last.sealed.length - 1] ^= 0x80;
      await rejectsWith(decryptAll(key, chunks), 'ciphertext_tampered');
    });

    it('swapped chunks (rows out of order) → ciphertext_reordered', async () => {
      const chunks = fresh();
      [chunks[1], chunks[2]] = [chunks[2], chunks[1]];
      await rejectsWith(decryptAll(key, chunks), 'ciphertext_reordered');
    });

    it('swapped sealed bodies with relabelled indexes → ciphertext_reordered', async () => {
      const chunks = fresh();
      const a = chunks[1];
      const b = chunks[2];
      [a.sealed, b.sealed] = [b.sealed, a.sealed];
      await rejectsWith(decryptAll(key, chunks), 'ciphertext_reordered');
    });

    it('a duplicated chunk → ciphertext_reordered', async () => {
      const chunks = fresh();
      chunks.splice(2, 0, { ...chunks[1], index: 2 });
      await rejectsWith(decryptAll(key, chunks), 'ciphertext_reordered');
    });

    it('the final chunk dropped → ciphertext_truncated', async () => {
      const chunks = fresh().slice(0, -1);
      await rejectsWith(decryptAll(key, chunks), 'ciphertext_truncated');
      assert.throws(() => decryptChunks(key, AAD, chunks), { code: 'ciphertext_truncated' });
    });

    it('the final chunk dropped and the new last one relabelled final → ciphertext_truncated', async () => {
      const chunks = fresh().slice(0, -1);
      chunks[chunks.length - 1].isFinal = true;
      await rejectsWith(decryptAll(key, chunks), 'ciphertext_truncated');
    });

    it('a truncated chunk (bytes cut off) → ciphertext_tampered', async () => {
      const chunks = fresh();
      const c = chunks[1];
      c.sealed = c.sealed.subarray(0, c.sealed.length - 10);
      await rejectsWith(decryptAll(key, chunks), 'ciphertext_tampered');
    });

    it('a chunk after the final one → ciphertext_trailing_data', async () => {
      const chunks = fresh();
      chunks.push({ index: 5, isFinal: true, sealed: sealChunk(key, AAD, 5, true, Buffer.from('more')) });
      await rejectsWith(decryptAll(key, chunks), 'ciphertext_trailing_data');
    });

    it("another file's context → ciphertext_tampered", async () => {
      await rejectsWith(
        decryptAll(key, fresh(), fileChunkContext('srv_test', 'fil_other')),
        'ciphertext_tampered',
      );
    });
  });

  it('streams 64 MiB with bounded memory', async () => {
    const total = 64 * 1024 * 1024;
    const piece = randomBytes(256 * 1024);
    let produced = 0;
    const source = new Readable({
      read() {
        if (produced >= total) return void this.push(null);
        produced += piece.length;
        this.push(piece);
      },
    });
    let received = 0;
    let peak = 0;
    const before = process.memoryUsage().arrayBuffers;
    await pipeline(
      source,
      createEncryptStream(key, AAD),
      createDecryptStream(key, AAD),
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          received += chunk.length;
          if ((received & 0xfffff) === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
          cb();
        },
      }),
    );
    assert.equal(received, total);
    // Backpressure keeps only a few chunks in flight; 64 MiB buffered would show up here. Garbage the collector
    // has not reclaimed yet counts too, so the bound sits between the two.
    assert.ok(peak < 48 * 1024 * 1024, `peak external memory grew by ${peak} bytes`);
  });
});
