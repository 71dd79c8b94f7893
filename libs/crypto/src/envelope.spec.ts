import assert from 'node:assert/strict';
import { createDecipheriv, createECDH, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import {
  CryptoError,
  type CryptoErrorCode,
  ENVELOPE_HEADER_LENGTH,
  createEnvelopeDecryptStream,
  createEnvelopeValidator,
  decryptEnvelope,
  encryptEnvelope,
  envelopeRecipient,
  generateIdentity,
  identityFromPrivateKey,
  parseEnvelopeHeader,
} from './index';

// The test vector printed in libs/crypto/ENVELOPE.md ("Worked example"): keep both in step.
const sha = (s: string): Buffer => createHash('sha256').update(s).digest();
const VECTOR = {
  recipientPrivateKey: sha('hearth envelope test recipient'),
  ephemeralPrivateKey: sha('hearth envelope test ephemeral'),
  recipientAddress: '0x161929E9D3b7d5520a46bd375699Afd27cbB7FA5',
  plaintext: 'Hello, Hearth! This is an envelope.',
  chunkSize: 16,
  sharedX: 'bdd51e460aee9fc2bdf6137c49f8f597b0e733159748f97adf2eb9cb39fcbc99',
  key: 'c6c8a25fe62e6c1c2c59a93a40d44897d3c0072656442d5c8f0563353c0faf5e',
  envelope:
    '4845563101161929e9d3b7d5520a46bd375699afd27cbb7fa5024e2564f5dec6205dc9021208f7fc2ccdeddabcfca540b90c2aaf5b05' +
    '263e5a8c00000010000000002c000000000000000000000000b2c8051ab3638c8f9012f177deb2698c2857dc14ab1a58997d082c65d4' +
    '523068000000002c0000000000000000000000017e2e224fb3545d0e2f9ab77ea0f06da7503d1689d89d107c8c5c8779e4f7c8a30100' +
    '00001f0000000000000000000000029ace2dfb04749b9ebbd7c5b507128cfa26226a',
};

async function decryptStreamed(privateKey: Buffer, envelope: Buffer, pieceSize = 7_777): Promise<Buffer> {
  const parts: Buffer[] = [];
  const pieces = function* (): Generator<Buffer> {
    for (let i = 0; i < envelope.length; i += pieceSize) yield envelope.subarray(i, i + pieceSize);
  };
  await pipeline(
    Readable.from(pieces()),
    createEnvelopeDecryptStream(privateKey),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        parts.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

function codeOf(fn: () => unknown): CryptoErrorCode | 'no error' {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CryptoError, `expected CryptoError, got ${String(err)}`);
    return err.code;
  }
  return 'no error';
}

async function rejectsWith(promise: Promise<unknown>, code: CryptoErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof CryptoError && err.code === code);
}

describe('HEV1 envelope', () => {
  const server = generateIdentity();
  const other = generateIdentity();

  it('matches the documented test vector byte for byte', () => {
    const recipient = identityFromPrivateKey(VECTOR.recipientPrivateKey);
    assert.equal(recipient.address, VECTOR.recipientAddress);
    const envelope = encryptEnvelope(recipient.publicKey, Buffer.from(VECTOR.plaintext), {
      chunkSize: VECTOR.chunkSize,
      ephemeralPrivateKey: VECTOR.ephemeralPrivateKey,
    });
    assert.equal(envelope.toString('hex'), VECTOR.envelope);
    assert.equal(decryptEnvelope(VECTOR.recipientPrivateKey, envelope).toString(), VECTOR.plaintext);
  });

  it('the test vector decodes with node:crypto alone, following ENVELOPE.md (no @noble code)', () => {
    const env = Buffer.from(VECTOR.envelope, 'hex');
    const header = env.subarray(0, 62);
    assert.equal(header.subarray(0, 4).toString('ascii'), 'HEV1');
    assert.equal(header[4], 1);
    assert.equal(`0x${header.subarray(5, 25).toString('hex')}`, VECTOR.recipientAddress.toLowerCase());
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(VECTOR.recipientPrivateKey);
    const sharedX = ecdh.computeSecret(header.subarray(25, 58)); // x-coordinate, 32 bytes
    assert.equal(sharedX.toString('hex'), VECTOR.sharedX);
    const key = Buffer.from(hkdfSync('sha256', sharedX, header, Buffer.from('hearth envelope v1'), 32));
    assert.equal(key.toString('hex'), VECTOR.key);
    const chunkSize = header.readUInt32BE(58);
    let offset = 62;
    let index = 0;
    const out: Buffer[] = [];
    for (;;) {
      const flags = env[offset];
      const len = env.readUInt32BE(offset + 1);
      assert.ok(flags === 1 ? len <= chunkSize + 28 : len === chunkSize + 28);
      const sealed = env.subarray(offset + 5, offset + 5 + len);
      const aad = Buffer.concat([header, Buffer.from([0, 0, 0, index, flags])]);
      const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      d.setAAD(aad);
      d.setAuthTag(sealed.subarray(len - 16));
      out.push(d.update(sealed.subarray(12, len - 16)), d.final());
      offset += 5 + len;
      index++;
      if (flags === 1) break;
    }
    assert.equal(offset, env.length);
    assert.equal(Buffer.concat(out).toString(), VECTOR.plaintext);
  });

  for (const size of [0, 1, 64 * 1024, 64 * 1024 + 1, 5 * 1024 * 1024]) {
    it(`round-trips ${size} bytes (buffer and stream, in both directions)`, async () => {
      const input = randomBytes(size);
      const envelope = encryptEnvelope(server.publicKey, input);
      assert.deepEqual(decryptEnvelope(server.privateKey, envelope), input);
      assert.deepEqual(await decryptStreamed(server.privateKey, envelope), input);
      const streamedParts: Buffer[] = [];
      for await (const part of encryptEnvelope(
        server.publicKey,
        Readable.from([input.subarray(0, 1000), input.subarray(1000)]),
      )) {
        streamedParts.push(part as Buffer);
      }
      const streamed = Buffer.concat(streamedParts);
      assert.equal(streamed.length, envelope.length);
      assert.deepEqual(decryptEnvelope(server.privateKey, streamed), input);
    });
  }

  it('accepts a compressed public key without 0x as well', () => {
    const compressed = Buffer.from(server.publicKey.slice(2), 'hex');
    compressed[0] = (compressed[64] & 1) === 1 ? 0x03 : 0x02;
    const envelope = encryptEnvelope(compressed.subarray(0, 33).toString('hex'), Buffer.from('hi'));
    assert.equal(decryptEnvelope(server.privateKey, envelope).toString(), 'hi');
  });

  it('names its recipient in the header; another server is refused before any decryption', async () => {
    const envelope = encryptEnvelope(other.publicKey, Buffer.from('for the other server'));
    assert.equal(envelopeRecipient(envelope.subarray(0, ENVELOPE_HEADER_LENGTH)), other.address);
    assert.equal(parseEnvelopeHeader(envelope).recipient, other.address);
    assert.equal(
      codeOf(() => decryptEnvelope(server.privateKey, envelope)),
      'envelope_wrong_recipient',
    );
    await rejectsWith(decryptStreamed(server.privateKey, envelope), 'envelope_wrong_recipient');
    await rejectsWith(
      pipeline(
        Readable.from([envelope]),
        createEnvelopeValidator(server.address.toLowerCase()),
        new Writable({ write: (_c, _e, cb) => cb() }),
      ),
      'envelope_wrong_recipient',
    );
  });

  it('rejects malformed headers', () => {
    const good = encryptEnvelope(server.publicKey, Buffer.from('x'));
    const mutate = (at: number, value: number): Buffer => {
      const b = Buffer.from(good);
      b[at] = value;
      return b;
    };
    assert.equal(
      codeOf(() => parseEnvelopeHeader(good.subarray(0, 61))),
      'envelope_malformed',
    );
    assert.equal(
      codeOf(() => parseEnvelopeHeader(mutate(0, 0x41))),
      'envelope_malformed',
    ); // magic
    assert.equal(
      codeOf(() => parseEnvelopeHeader(mutate(4, 3))),
      'envelope_malformed',
    ); // version
    assert.equal(
      codeOf(() => parseEnvelopeHeader(mutate(25, 0x04))),
      'envelope_malformed',
    ); // key prefix
    const badPoint = Buffer.from(good);
    badPoint.fill(0xff, 26, 58); // x >= p: not a point
    assert.equal(
      codeOf(() => parseEnvelopeHeader(badPoint)),
      'envelope_malformed',
    );
    const zeroChunk = Buffer.from(good);
    zeroChunk.writeUInt32BE(0, 58);
    assert.equal(
      codeOf(() => parseEnvelopeHeader(zeroChunk)),
      'envelope_malformed',
    );
    assert.equal(
      codeOf(() =>
        parseEnvelopeHeader(Buffer.from('not an envelope at all, just some text that is long enough..')),
      ),
      'envelope_malformed',
    );
  });

  describe('attacks', () => {
    const input = randomBytes(3 * 1000 + 10);
    const envelope = encryptEnvelope(server.publicKey, input, { chunkSize: 1000 });
    const frame = 5 + 1000 + 28;
    const firstFrame = ENVELOPE_HEADER_LENGTH;

    const expectBoth = async (bytes: Buffer, code: CryptoErrorCode): Promise<void> => {
      assert.equal(
        codeOf(() => decryptEnvelope(server.privateKey, bytes)),
        code,
      );
      await rejectsWith(decryptStreamed(server.privateKey, bytes, 333), code);
    };

    it('a flipped ciphertext byte → ciphertext_tampered', async () => {
      const b = Buffer.from(envelope);
      b[firstFrame + frame + 50] ^= 0x01;
      await expectBoth(b, 'ciphertext_tampered');
    });

    it('a changed header byte (chunk size) → envelope fails', async () => {
      const b = Buffer.from(envelope);
      b.writeUInt32BE(999, 58);
      await expectBoth(b, 'envelope_malformed'); // frames no longer fit the declared size
    });

    it('another ephemeral key in the header → ciphertext_tampered', async () => {
      const b = Buffer.from(envelope);
      const someone = generateIdentity();
      const pub = Buffer.from(someone.publicKey.slice(2), 'hex');
      b[25] = (pub[64] & 1) === 1 ? 0x03 : 0x02;
      pub.copy(b, 26, 1, 33);
      await expectBoth(b, 'ciphertext_tampered');
    });

    it('swapped chunks → ciphertext_reordered', async () => {
      const b = Buffer.from(envelope);
      envelope.copy(b, firstFrame, firstFrame + frame, firstFrame + 2 * frame);
      envelope.copy(b, firstFrame + frame, firstFrame, firstFrame + frame);
      await expectBoth(b, 'ciphertext_reordered');
    });

    it('the final chunk dropped → ciphertext_truncated', async () => {
      await expectBoth(envelope.subarray(0, firstFrame + 3 * frame), 'ciphertext_truncated');
    });

    it('the final chunk dropped and the last one flagged final → ciphertext_truncated', async () => {
      const b = Buffer.from(envelope.subarray(0, firstFrame + 3 * frame));
      b[firstFrame + 2 * frame] = 1;
      await expectBoth(b, 'ciphertext_truncated');
    });

    it('a truncated stream (cut inside a chunk) → ciphertext_truncated', async () => {
      await expectBoth(envelope.subarray(0, envelope.length - 5), 'ciphertext_truncated');
    });

    it('a final chunk with bytes cut off (length fixed up) → ciphertext_tampered', async () => {
      const b = Buffer.from(envelope.subarray(0, envelope.length - 4));
      b.writeUInt32BE(10 + 28 - 4, firstFrame + 3 * frame + 1);
      await expectBoth(b, 'ciphertext_tampered');
    });

    it('bytes after the final chunk → ciphertext_trailing_data', async () => {
      await expectBoth(Buffer.concat([envelope, Buffer.from([0])]), 'ciphertext_trailing_data');
    });

    it('an unknown frame flag or a short non-final frame → envelope_malformed', async () => {
      const b = Buffer.from(envelope);
      b[firstFrame] = 2;
      await expectBoth(b, 'envelope_malformed');
      const c = Buffer.from(envelope);
      c.writeUInt32BE(500, firstFrame + 1);
      await expectBoth(c, 'envelope_malformed');
    });

    it('the key-less validator accepts the intact envelope and rejects a truncated one', async () => {
      const sink = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });
      const validator = createEnvelopeValidator(server.address);
      let seen: { chunks: number } | undefined;
      validator.on('envelope', (info: { chunks: number }) => (seen = info));
      await pipeline(Readable.from([envelope.subarray(0, 100), envelope.subarray(100)]), validator, sink());
      assert.equal(seen?.chunks, 4);
      await rejectsWith(
        pipeline(
          Readable.from([envelope.subarray(0, firstFrame + frame)]),
          createEnvelopeValidator(),
          sink(),
        ),
        'ciphertext_truncated',
      );
    });
  });

  it('rejects invalid keys with invalid_key', () => {
    assert.equal(
      codeOf(() => encryptEnvelope('0x1234', Buffer.from('x'))),
      'invalid_key',
    );
    assert.equal(
      codeOf(() => encryptEnvelope(Buffer.alloc(65, 7), Buffer.from('x'))),
      'invalid_key',
    );
    assert.equal(
      codeOf(() => decryptEnvelope(Buffer.alloc(32), Buffer.alloc(100))),
      'invalid_key',
    );
  });
});
