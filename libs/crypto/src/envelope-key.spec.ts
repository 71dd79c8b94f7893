import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isCryptoError } from './errors';
import {
  decryptEnvelope,
  decryptEnvelopeWithKey,
  encryptEnvelope,
  ENVELOPE_HEADER_LENGTH,
  envelopeKey,
} from './envelope';
import { generateIdentity } from './identity';

describe('envelope key handed to a less trusted process', () => {
  const server = generateIdentity();
  const plaintext = Buffer.from('a line of a diary, long enough to span chunks. '.repeat(50));
  const envelope = encryptEnvelope(server.publicKey, plaintext, { chunkSize: 256 });

  it('opens the envelope with the key derived from its header, as decryptEnvelope does', () => {
    const key = envelopeKey(server.privateKey, envelope.subarray(0, ENVELOPE_HEADER_LENGTH));
    assert.equal(key.length, 32);
    assert.deepEqual(decryptEnvelopeWithKey(key, envelope), decryptEnvelope(server.privateKey, envelope));
    assert.deepEqual(decryptEnvelopeWithKey(key, envelope), plaintext);
  });

  it("refuses another server's envelope before deriving anything", () => {
    const other = generateIdentity();
    assert.throws(
      () => envelopeKey(other.privateKey, envelope),
      (err: unknown) => isCryptoError(err) && err.code === 'envelope_wrong_recipient',
    );
  });

  it('a wrong key or a tampered chunk fails to open, and the key given is left intact', () => {
    const key = envelopeKey(server.privateKey, envelope);
    const wrong = Buffer.alloc(32, 7);
    assert.throws(() => decryptEnvelopeWithKey(wrong, envelope), isCryptoError);
    const tampered = Buffer.from(envelope);
    tampered[tampered.length - 1] ^= 1;
    assert.throws(() => decryptEnvelopeWithKey(key, tampered), isCryptoError);
    assert.ok(
      key.some((b) => b !== 0),
      'the caller owns (and wipes) its key',
    );
  });
});
