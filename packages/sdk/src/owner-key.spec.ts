import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { privateKeyToAccount } from 'viem/accounts';
import { decryptEnvelope, identityFromPrivateKey } from '@hearth/crypto';
import {
  EnvelopeReadError,
  decryptAsOwner,
  deriveOwnerKey,
  encryptForServerToBytes,
  nodeCryptoAead,
  ownerKeyMessage,
  ownerPublicKey,
  webCryptoAead,
} from './node';

const sha = (s: string) => createHash('sha256').update(s).digest();
// libs/crypto/ENVELOPE.md, "Worked example, version 2".
const V2 =
  '4845563102161929e9d3b7d5520a46bd375699afd27cbb7fa5024e2564f5dec6205dc9021208f7fc2ccdeddabcfca540b90c2aaf5b05' +
  '263e5a8c00000010b1ada4c045b1e7364951c3e2de4a73cab630dc34401756a70e94595b08f1ac1f37ba3f7cfb778ea8fe5c41cf0a55' +
  '5dec341760f538b8ef16faec6daea9b522a5d5bd3ce9000000002c000000000000000000000000df123f6334114e89377620bc1ce40c' +
  'daee75d714205f3970218c569c129c19e7000000002c00000000000000000000000163c3d02e3bb811616f5ecb2e216d7b2622d76e10' +
  '74456893d0af54f887b55305010000001f0000000000000000000000024ce3c0f057b00399ce458657ea1b8814be28d1';
const server = {
  publicKey:
    '0x048773f4bd790763ca6e5c2f6a03d0d76ea535d8c8a397dae5dbac890b46bf5446c2d94726a60ba84996759bb1694fb9883898db87d9c314202f696a41ee7af4fb',
  address: '0x161929E9D3b7d5520a46bd375699Afd27cbB7FA5',
};
const wallet = privateKeyToAccount(`0x${sha('hearth envelope test owner wallet').toString('hex')}`);

async function collect(gen: AsyncGenerator<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of gen) parts.push(p);
  return Buffer.concat(parts);
}

describe('owner key and version 2 envelopes', () => {
  it('derives the documented owner key from the wallet signature', async () => {
    assert.equal(ownerKeyMessage(server.address.toLowerCase()), `Hearth owner key v1 for ${server.address}`);
    const key = await deriveOwnerKey((message) => wallet.signMessage({ message }), server.address);
    assert.equal(
      Buffer.from(key).toString('hex'),
      '89be4ebc2e5c3c5badfe571da6c61f756a858daa7841161d9ee185c1bfcd2e8b',
    );
    assert.equal(ownerPublicKey(key).address, '0xb1adA4C045b1e7364951c3E2De4A73cab630Dc34');
  });

  for (const aead of [nodeCryptoAead, webCryptoAead]) {
    it(`produces the version 2 vector byte for byte (${aead.name})`, async () => {
      const key = await deriveOwnerKey((message) => wallet.signMessage({ message }), server.address);
      const out = await encryptForServerToBytes(server, 'Hello, Hearth! This is an envelope.', {
        chunkSize: 16,
        ephemeralPrivateKey: sha('hearth envelope test ephemeral'),
        ownerPublicKey: ownerPublicKey(key).publicKey,
        aead,
      });
      assert.equal(Buffer.from(out).toString('hex'), V2);
    });
  }

  it('decryptAsOwner opens the vector, and a streamed random envelope both ways', async () => {
    const key = await deriveOwnerKey((message) => wallet.signMessage({ message }), server.address);
    assert.equal(
      (await collect(decryptAsOwner(key, Buffer.from(V2, 'hex')))).toString(),
      'Hello, Hearth! This is an envelope.',
    );
    const input = randomBytes(300_001);
    const env = await encryptForServerToBytes(server, input, {
      ownerPublicKey: ownerPublicKey(key).publicKey,
    });
    async function* pieces(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < env.length; i += 9_999) yield env.subarray(i, i + 9_999);
    }
    assert.deepEqual(await collect(decryptAsOwner(key, pieces())), input);
    // The server's own reader (libs/crypto) opens the same bytes with the server's key.
    const serverKey = identityFromPrivateKey(sha('hearth envelope test recipient'));
    assert.deepEqual(decryptEnvelope(serverKey.privateKey, env), input);
  });

  it('refuses another owner key, a version 1 envelope, tampering and truncation', async () => {
    const key = await deriveOwnerKey((message) => wallet.signMessage({ message }), server.address);
    const other = await deriveOwnerKey(
      (message) => privateKeyToAccount(`0x${sha('someone else').toString('hex')}`).signMessage({ message }),
      server.address,
    );
    const env = Buffer.from(V2, 'hex');
    const codeOf = async (k: Uint8Array, bytes: Uint8Array): Promise<string> => {
      try {
        await collect(decryptAsOwner(k, bytes));
        return 'no error';
      } catch (err) {
        assert.ok(err instanceof EnvelopeReadError);
        return err.code;
      }
    };
    assert.equal(await codeOf(other, env), 'wrong_owner_key');
    const v1 = await encryptForServerToBytes(server, 'x');
    assert.equal(await codeOf(key, v1), 'no_owner_slot');
    const tampered = Buffer.from(env);
    tampered[200] ^= 1;
    assert.equal(await codeOf(key, tampered), 'ciphertext_invalid');
    assert.equal(await codeOf(key, env.subarray(0, env.length - 1)), 'ciphertext_invalid');
    assert.equal(await codeOf(key, Buffer.concat([env, Buffer.from([0])])), 'ciphertext_invalid');
  });
});
