import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, stringToHex } from 'viem';
import { generatePrivateKey, sign } from 'viem/accounts';
import { signDigest } from './index';

describe('signDigest', () => {
  it("gives viem's signature for the same digest and key (deterministic, low s, v 27/28)", async () => {
    for (let i = 0; i < 20; i++) {
      const key = generatePrivateKey();
      const digest = keccak256(stringToHex(`receipt ${i}`));
      assert.equal(signDigest(digest, key), await sign({ hash: digest, privateKey: key, to: 'hex' }));
    }
  });
});
