import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isCryptoError } from './errors';
import { openValue, sealValue } from './sealed-value';

describe('sealValue / openValue', () => {
  const key = randomBytes(32);

  it('round-trips and hides the plaintext', () => {
    const sealed = sealValue(key, 'row:1:name', Buffer.from('diagnosis.pdf'));
    assert.ok(!sealed.includes(Buffer.from('diagnosis')));
    assert.equal(openValue(key, 'row:1:name', sealed).toString(), 'diagnosis.pdf');
  });

  it('refuses another row, another key and a flipped byte', () => {
    const sealed = sealValue(key, 'row:1:name', Buffer.from('x'));
    const fails = (fn: () => unknown) =>
      assert.throws(fn, (e: unknown) => isCryptoError(e) && e.code === 'ciphertext_tampered');
    fails(() => openValue(key, 'row:2:name', sealed));
    fails(() => openValue(randomBytes(32), 'row:1:name', sealed));
    const flipped = Buffer.from(sealed);
    flipped[14] ^= 1;
    fails(() => openValue(key, 'row:1:name', flipped));
  });
});
