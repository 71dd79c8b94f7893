import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { decryptEnvelope, identityFromPrivateKey } from '@hearth/crypto';
import {
  encryptForServer,
  encryptForServerToBytes,
  ENVELOPE_HEADER_LENGTH,
  nodeCryptoAead,
  webCryptoAead,
} from './node';

const sha = (s: string) => createHash('sha256').update(s).digest();
const recipientPriv = sha('hearth envelope test recipient');
const ephemeralPriv = sha('hearth envelope test ephemeral');
// The whole envelope of libs/crypto/ENVELOPE.md's worked example.
const VECTOR =
  '4845563101161929e9d3b7d5520a46bd375699afd27cbb7fa5024e2564f5dec6205dc9021208f7fc2ccdeddabcfca540b90c2aaf5b05' +
  '263e5a8c00000010000000002c000000000000000000000000b2c8051ab3638c8f9012f177deb2698c2857dc14ab1a58997d082c65d4' +
  '523068000000002c0000000000000000000000017e2e224fb3545d0e2f9ab77ea0f06da7503d1689d89d107c8c5c8779e4f7c8a30100' +
  '00001f0000000000000000000000029ace2dfb04749b9ebbd7c5b507128cfa26226a';
const recipient = {
  publicKey:
    '0x048773f4bd790763ca6e5c2f6a03d0d76ea535d8c8a397dae5dbac890b46bf5446c2d94726a60ba84996759bb1694fb9883898db87d9c314202f696a41ee7af4fb',
  address: '0x161929E9D3b7d5520a46bd375699Afd27cbB7FA5',
};
const PLAINTEXT = 'Hello, Hearth! This is an envelope.';

async function* pieces(bytes: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    yield bytes.subarray(offset, offset + n);
    offset += n;
  }
}

describe('encryptForServer', () => {
  for (const aead of [nodeCryptoAead, webCryptoAead]) {
    it(`produces ENVELOPE.md's test vector byte for byte (${aead.name})`, async () => {
      const out = await encryptForServerToBytes(recipient, PLAINTEXT, {
        chunkSize: 16,
        ephemeralPrivateKey: ephemeralPriv,
        aead,
      });
      assert.equal(Buffer.from(out).toString('hex'), VECTOR);
    });

    it(`streams any piece sizes into the same bytes, which the reference reader opens (${aead.name})`, async () => {
      const plain = randomBytes(200_003);
      const whole = await encryptForServerToBytes(recipient, plain, {
        chunkSize: 4096,
        ephemeralPrivateKey: ephemeralPriv,
        aead,
      });
      const streamed = await encryptForServerToBytes(recipient, pieces(plain, [1, 4095, 4096, 9000, 7]), {
        chunkSize: 4096,
        ephemeralPrivateKey: ephemeralPriv,
        aead,
      });
      assert.ok(Buffer.from(whole).equals(Buffer.from(streamed)));
      assert.ok(decryptEnvelope(recipientPriv, whole).equals(plain));
    });
  }

  it('seals an exact multiple of the chunk size with a full final chunk, and empty input as one empty final chunk', async () => {
    for (const size of [0, 16, 32]) {
      const plain = randomBytes(size);
      const out = await encryptForServerToBytes(recipient, plain, { chunkSize: 16 });
      const frames = Math.max(1, Math.ceil(size / 16));
      assert.equal(out.length, ENVELOPE_HEADER_LENGTH + frames * (5 + 28) + size);
      assert.ok(decryptEnvelope(recipientPriv, out).equals(plain));
    }
  });

  it('uses a fresh ephemeral key per envelope', async () => {
    const a = await encryptForServerToBytes(recipient, PLAINTEXT);
    const b = await encryptForServerToBytes(recipient, PLAINTEXT);
    assert.notDeepEqual(a.subarray(25, 58), b.subarray(25, 58));
  });

  it('refuses a public key that is not the named address', async () => {
    const other = identityFromPrivateKey(randomBytes(32));
    await assert.rejects(
      encryptForServerToBytes({ publicKey: other.publicKey, address: recipient.address }, PLAINTEXT),
      /not 0x161929E9D3b7d5520a46bd375699Afd27cbB7FA5/,
    );
  });

  it('yields the header before reading the source, and frames as chunks complete', async () => {
    let pulled = 0;
    async function* slow(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 4; i++) {
        pulled++;
        yield new Uint8Array(16).fill(i);
      }
    }
    const it = encryptForServer(recipient, slow(), { chunkSize: 16 })[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal((first.value as Uint8Array).length, ENVELOPE_HEADER_LENGTH);
    assert.equal(pulled, 0);
    const second = await it.next();
    assert.equal((second.value as Uint8Array)[0], 0, 'a non-final frame');
    assert.ok(pulled < 4, 'the first frame came out before the whole source was read');
  });
});
