import assert from 'node:assert/strict';
import { createDecipheriv, createECDH, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { privateKeyToAccount } from 'viem/accounts';
import {
  CryptoError,
  type CryptoErrorCode,
  ENVELOPE_V2_HEADER_LENGTH,
  createEnvelopeDecryptStream,
  createEnvelopeValidator,
  decryptEnvelope,
  encryptEnvelope,
  generateIdentity,
  identityFromPrivateKey,
  ownerKeyFromSignature,
  ownerKeyMessage,
  parseEnvelopeHeader,
  type PrivateKeyInput,
} from './index';

// The version 2 test vector printed in libs/crypto/ENVELOPE.md ("Worked example, version 2"): keep both in step.
const sha = (s: string): Buffer => createHash('sha256').update(s).digest();
const V2 = {
  recipientPrivateKey: sha('hearth envelope test recipient'),
  ephemeralPrivateKey: sha('hearth envelope test ephemeral'),
  walletPrivateKey: sha('hearth envelope test owner wallet'),
  walletAddress: '0x1461B45BBFCF4BbC4f6e80837cA4D514cFDEc16D',
  message: 'Hearth owner key v1 for 0x161929E9D3b7d5520a46bd375699Afd27cbB7FA5',
  signature:
    '0x6faa1d0b3f7db9a5fb7850ccf0ee60405fc13cb06a860375389bfc32d5172f782156db6c26377eda7347d5925d3cf352108833f294d1bea1fba34b9b07c0f2511c',
  ownerPrivateKey: '89be4ebc2e5c3c5badfe571da6c61f756a858daa7841161d9ee185c1bfcd2e8b',
  ownerAddress: '0xb1adA4C045b1e7364951c3E2De4A73cab630Dc34',
  key: '422e1f9b5faee7e3133c7227530088d0502a6762b34e0ab5528ad8b0621ef8e9',
  kek: '73fd7c24dec0b1b5022ce4457447af8c71bd1efca6cb2b6093088f7ae53f9953',
  plaintext: 'Hello, Hearth! This is an envelope.',
  envelope:
    '4845563102161929e9d3b7d5520a46bd375699afd27cbb7fa5024e2564f5dec6205dc9021208f7fc2ccdeddabcfca540b90c2aaf5b05' +
    '263e5a8c00000010b1ada4c045b1e7364951c3e2de4a73cab630dc34401756a70e94595b08f1ac1f37ba3f7cfb778ea8fe5c41cf0a55' +
    '5dec341760f538b8ef16faec6daea9b522a5d5bd3ce9000000002c000000000000000000000000df123f6334114e89377620bc1ce40c' +
    'daee75d714205f3970218c569c129c19e7000000002c00000000000000000000000163c3d02e3bb811616f5ecb2e216d7b2622d76e10' +
    '74456893d0af54f887b55305010000001f0000000000000000000000024ce3c0f057b00399ce458657ea1b8814be28d1',
};

function codeOf(fn: () => unknown): CryptoErrorCode | 'no error' {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CryptoError, `expected CryptoError, got ${String(err)}`);
    return err.code;
  }
  return 'no error';
}

async function decryptStreamed(
  privateKey: PrivateKeyInput,
  envelope: Buffer,
  asOwner: boolean,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  const pieces = function* (): Generator<Buffer> {
    for (let i = 0; i < envelope.length; i += 37) yield envelope.subarray(i, i + 37);
  };
  await pipeline(
    Readable.from(pieces()),
    createEnvelopeDecryptStream(privateKey, { asOwner }),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        parts.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

describe('HEV1 envelope, version 2 (owner slot)', () => {
  it('derives the owner key from the wallet signature as documented', async () => {
    const wallet = privateKeyToAccount(`0x${V2.walletPrivateKey.toString('hex')}`);
    assert.equal(wallet.address, V2.walletAddress);
    const recipient = identityFromPrivateKey(V2.recipientPrivateKey);
    assert.equal(ownerKeyMessage(recipient.address.toLowerCase()), V2.message);
    const signature = await wallet.signMessage({ message: V2.message });
    assert.equal(signature, V2.signature);
    const ownerKey = ownerKeyFromSignature(signature, recipient.address);
    assert.equal(ownerKey.toString('hex'), V2.ownerPrivateKey);
    assert.equal(identityFromPrivateKey(ownerKey).address, V2.ownerAddress);
  });

  it('matches the documented version 2 vector byte for byte; both recipients open it', () => {
    const recipient = identityFromPrivateKey(V2.recipientPrivateKey);
    const owner = identityFromPrivateKey(Buffer.from(V2.ownerPrivateKey, 'hex'));
    const envelope = encryptEnvelope(recipient.publicKey, Buffer.from(V2.plaintext), {
      chunkSize: 16,
      ephemeralPrivateKey: V2.ephemeralPrivateKey,
      ownerPublicKey: owner.publicKey,
    });
    assert.equal(envelope.toString('hex'), V2.envelope);
    assert.equal(decryptEnvelope(V2.recipientPrivateKey, envelope).toString(), V2.plaintext);
    assert.equal(
      decryptEnvelope(Buffer.from(V2.ownerPrivateKey, 'hex'), envelope, { asOwner: true }).toString(),
      V2.plaintext,
    );
    const header = parseEnvelopeHeader(envelope);
    assert.equal(header.version, 2);
    assert.equal(header.headerLength, ENVELOPE_V2_HEADER_LENGTH);
    assert.equal(header.owner, V2.ownerAddress);
  });

  it('the vector opens through the owner slot with node:crypto alone, following ENVELOPE.md', () => {
    const env = Buffer.from(V2.envelope, 'hex');
    const header = env.subarray(0, 130);
    const salt = header.subarray(0, 82);
    assert.equal(header[4], 2);
    assert.equal(`0x${header.subarray(62, 82).toString('hex')}`, V2.ownerAddress.toLowerCase());
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(Buffer.from(V2.ownerPrivateKey, 'hex'));
    const ownerX = ecdh.computeSecret(header.subarray(25, 58));
    const kek = Buffer.from(hkdfSync('sha256', ownerX, salt, Buffer.from('hearth envelope v2 owner'), 32));
    assert.equal(kek.toString('hex'), V2.kek);
    const unwrap = createDecipheriv('aes-256-gcm', kek, Buffer.alloc(12));
    unwrap.setAAD(salt);
    unwrap.setAuthTag(header.subarray(114, 130));
    const key = Buffer.concat([unwrap.update(header.subarray(82, 114)), unwrap.final()]);
    assert.equal(key.toString('hex'), V2.key);
    // The server's key is the same data key, from its own ECDH: HKDF(salt = the first 82 bytes, "hearth envelope v2").
    const server = createECDH('secp256k1');
    server.setPrivateKey(V2.recipientPrivateKey);
    const sharedX = server.computeSecret(header.subarray(25, 58));
    const serverKey = Buffer.from(hkdfSync('sha256', sharedX, salt, Buffer.from('hearth envelope v2'), 32));
    assert.equal(serverKey.toString('hex'), V2.key);
    let offset = 130;
    let index = 0;
    const out: Buffer[] = [];
    for (;;) {
      const flags = env[offset];
      const len = env.readUInt32BE(offset + 1);
      const sealed = env.subarray(offset + 5, offset + 5 + len);
      const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      d.setAAD(Buffer.concat([header, Buffer.from([0, 0, 0, index, flags])]));
      d.setAuthTag(sealed.subarray(len - 16));
      out.push(d.update(sealed.subarray(12, len - 16)), d.final());
      offset += 5 + len;
      index++;
      if (flags === 1) break;
    }
    assert.equal(offset, env.length);
    assert.equal(Buffer.concat(out).toString(), V2.plaintext);
  });

  it('streams both ways for both recipients, and the key-less validator accepts it', async () => {
    const server = generateIdentity();
    const owner = generateIdentity();
    const input = randomBytes(200_000);
    const envelope = encryptEnvelope(server.publicKey, input, { ownerPublicKey: owner.publicKey });
    assert.deepEqual(await decryptStreamed(server.privateKey, envelope, false), input);
    assert.deepEqual(await decryptStreamed(owner.privateKey, envelope, true), input);
    let seen = 0;
    await pipeline(
      Readable.from([envelope.subarray(0, 70), envelope.subarray(70)]),
      createEnvelopeValidator(server.address),
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          seen += chunk.length;
          cb();
        },
      }),
    );
    assert.equal(seen, envelope.length);
  });

  it('refuses a stranger at the owner slot, a tampered slot, and the owner path on version 1', () => {
    const server = generateIdentity();
    const owner = generateIdentity();
    const stranger = generateIdentity();
    const envelope = encryptEnvelope(server.publicKey, Buffer.from('secret'), {
      ownerPublicKey: owner.publicKey,
    });
    assert.equal(
      codeOf(() => decryptEnvelope(stranger.privateKey, envelope, { asOwner: true })),
      'envelope_wrong_recipient',
    );
    const slot = Buffer.from(envelope);
    slot[90] ^= 1;
    assert.equal(
      codeOf(() => decryptEnvelope(owner.privateKey, slot, { asOwner: true })),
      'ciphertext_tampered',
    );
    // The wrapped key is in every chunk's AAD: the server notices the change too.
    assert.equal(
      codeOf(() => decryptEnvelope(server.privateKey, slot)),
      'ciphertext_tampered',
    );
    const v1 = encryptEnvelope(server.publicKey, Buffer.from('secret'));
    assert.equal(
      codeOf(() => decryptEnvelope(owner.privateKey, v1, { asOwner: true })),
      'envelope_wrong_recipient',
    );
    assert.equal(
      codeOf(() => parseEnvelopeHeader(envelope.subarray(0, 100))),
      'envelope_malformed',
    );
  });
});
