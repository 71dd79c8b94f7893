import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { privateKeyToAccount } from 'viem/accounts';
import { recoverMessageAddress } from 'viem';
import {
  generateIdentity,
  identityFromPrivateKey,
  publicKeyToAddress,
  sha256Bytes32,
  sha256Hex,
  sha256HexOf,
} from './index';

describe('server identity', () => {
  it('generates a secp256k1 key, uncompressed public key and EIP-55 address that agree with viem', async () => {
    const id = generateIdentity();
    assert.equal(id.privateKey.length, 32);
    assert.match(id.publicKey, /^0x04[0-9a-f]{128}$/);
    assert.match(id.address, /^0x[0-9a-fA-F]{40}$/);
    const account = privateKeyToAccount(`0x${id.privateKey.toString('hex')}`);
    assert.equal(account.address, id.address);
    assert.equal(account.publicKey, id.publicKey);
    assert.equal(publicKeyToAddress(id.publicKey), id.address);
    const signature = await account.signMessage({ message: 'receipt' });
    assert.equal(await recoverMessageAddress({ message: 'receipt', signature }), id.address);
  });

  it('derives the known address of a known key', () => {
    // the well-known hardhat account #0
    const id = identityFromPrivateKey('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
    assert.equal(id.address, '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
  });

  it('never repeats', () => {
    assert.notEqual(generateIdentity().address, generateIdentity().address);
  });
});

describe('sha256 helpers', () => {
  it('hash the concatenation of the parts', async () => {
    const expected = createHash('sha256').update('abcdef').digest('hex');
    assert.equal(sha256Hex('abc', Buffer.from('def')), expected);
    assert.equal(sha256Bytes32('abcdef'), `0x${expected}`);
    assert.equal(await sha256HexOf([Buffer.from('ab'), 'cd', Buffer.from('ef')]), expected);
    assert.equal(sha256Hex(), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
