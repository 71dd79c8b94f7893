import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1';
import { privateKeyToAccount } from 'viem/accounts';
import {
  base64url,
  eip191Digest,
  KnownSigners,
  signerOf,
  bodyHashOf,
  canonicalJson,
  parseWeb3Signed,
  recoverEip191Signer,
  verifyWeb3Signed,
  Web3SignedError,
  type Web3SignedFailure,
  web3SignedHeader,
  type Web3SignedPayload,
} from './web3-signed';

// The payload of the spec's §4.1.9.1 example (grantId filled in), signed by Hardhat's dev account #1.
const SPEC_PAYLOAD: Web3SignedPayload = {
  uri: '/data?scopePrefix=instagram&limit=50&offset=0',
  method: 'GET',
  iat: 1737500000,
  grantId: '0x1',
  exp: 1737500300,
  bodyHash: '',
  aud: 'https://user-abc.server.vana.com',
};
const CANONICAL =
  '{"aud":"https://user-abc.server.vana.com","bodyHash":"","exp":1737500300,"grantId":"0x1","iat":1737500000,' +
  '"method":"GET","uri":"/data?scopePrefix=instagram&limit=50&offset=0"}';
const ENCODED =
  'eyJhdWQiOiJodHRwczovL3VzZXItYWJjLnNlcnZlci52YW5hLmNvbSIsImJvZHlIYXNoIjoiIiwiZXhwIjoxNzM3NTAwMzAwLCJncmFudElkIjoiMHgxIiwi' +
  'aWF0IjoxNzM3NTAwMDAwLCJtZXRob2QiOiJHRVQiLCJ1cmkiOiIvZGF0YT9zY29wZVByZWZpeD1pbnN0YWdyYW0mbGltaXQ9NTAmb2Zmc2V0PTAifQ';
// RFC 6979 signatures are deterministic: this is the EIP-191 signature of ENCODED by SIGNER.
const SIGNATURE =
  '0x047a4502f39e708c83a410520286c1c3a90399e31a5e8b765521bfda0923659018979319684067260d758be5053ef01dc29943d41425bd3899d0768a67e082aa1b';
const SIGNER_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const SIGNER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

const EXPECT = {
  audiences: ['https://user-abc.server.vana.com'],
  method: 'GET',
  uri: '/data?scopePrefix=instagram&limit=50&offset=0',
  now: 1737500100,
  skewSeconds: 300,
};

function failureOf(fn: () => unknown): Web3SignedFailure {
  try {
    fn();
  } catch (err) {
    if (err instanceof Web3SignedError) return err.failure;
    throw err;
  }
  assert.fail('expected a Web3SignedError');
}

describe('Web3Signed (spec §4.1.9.1)', () => {
  it('canonical JSON sorts keys at every level and keeps array order', () => {
    assert.equal(canonicalJson(SPEC_PAYLOAD), CANONICAL);
    assert.equal(
      canonicalJson({ b: [{ z: 1, a: 2 }, 3], a: { d: null, c: 'x' } }),
      '{"a":{"c":"x","d":null},"b":[{"a":2,"z":1},3]}',
    );
  });

  it('encodes with base64url and no padding', () => {
    assert.equal(base64url(CANONICAL), ENCODED);
    assert.doesNotMatch(ENCODED, /[=+/]/);
    assert.equal(base64url('a'), 'YQ');
  });

  it('signs the encoded payload with EIP-191: the test vector', async () => {
    const account = privateKeyToAccount(SIGNER_KEY);
    const header = await web3SignedHeader(SPEC_PAYLOAD, (m) => account.signMessage(m));
    assert.equal(header, `Web3Signed ${ENCODED}.${SIGNATURE}`);
    assert.equal(recoverEip191Signer(ENCODED, SIGNATURE), SIGNER);
  });

  it('verifies the vector against a matching request', () => {
    const verified = verifyWeb3Signed(`Web3Signed ${ENCODED}.${SIGNATURE}`, EXPECT);
    assert.equal(verified.signer, SIGNER);
    assert.equal(verified.payload.grantId, '0x1');
  });

  it('refuses each claim that does not match the request', () => {
    const header = `Web3Signed ${ENCODED}.${SIGNATURE}`;
    assert.equal(
      failureOf(() => verifyWeb3Signed(header, { ...EXPECT, audiences: ['https://other'] })),
      'wrong_audience',
    );
    assert.equal(
      failureOf(() => verifyWeb3Signed(header, { ...EXPECT, method: 'POST' })),
      'wrong_method',
    );
    // The query string is covered: the same path with another query is another request.
    assert.equal(
      failureOf(() => verifyWeb3Signed(header, { ...EXPECT, uri: '/data?scopePrefix=instagram' })),
      'wrong_uri',
    );
    assert.equal(
      failureOf(() => verifyWeb3Signed(header, { ...EXPECT, body: Buffer.from('{}') })),
      'wrong_body_hash',
    );
    assert.equal(
      failureOf(() => verifyWeb3Signed(header, { ...EXPECT, now: 1737500300 + 301 })),
      'expired',
    );
    assert.equal(
      failureOf(() => verifyWeb3Signed(header, { ...EXPECT, now: 1737500000 - 301 })),
      'not_yet_valid',
    );
    assert.equal(
      failureOf(() => verifyWeb3Signed(header, { ...EXPECT, skewSeconds: 299 })),
      'window_too_long',
    );
  });

  it('refuses malformed headers and tampered payloads', () => {
    assert.equal(
      failureOf(() => parseWeb3Signed(undefined)),
      'missing',
    );
    assert.equal(
      failureOf(() => parseWeb3Signed(`Bearer ${ENCODED}.${SIGNATURE}`)),
      'missing',
    );
    assert.equal(
      failureOf(() => parseWeb3Signed(`Web3Signed ${ENCODED}`)),
      'malformed',
    );
    assert.equal(
      failureOf(() => parseWeb3Signed(`Web3Signed ${ENCODED}=.${SIGNATURE}`)),
      'malformed',
    );
    assert.equal(
      failureOf(() => parseWeb3Signed(`Web3Signed ${base64url('[1]')}.${SIGNATURE}`)),
      'malformed',
    );
    // Another payload under the vector's signature recovers to someone else, never to the signer.
    const tampered = base64url(canonicalJson({ ...SPEC_PAYLOAD, grantId: '0x2' }));
    const other = verifyWeb3Signed(`Web3Signed ${tampered}.${SIGNATURE}`, EXPECT);
    assert.notEqual(other.signer, SIGNER);
  });

  it('hashes bodies as lowercase hex SHA-256, none as the empty string', () => {
    assert.equal(bodyHashOf(undefined), '');
    assert.equal(bodyHashOf('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('checks a known signer against its cached key, and recovers anyone else', () => {
    const known = new KnownSigners(2);
    // Unknown yet: recovered, then learned.
    const sig = secp256k1.Signature.fromCompact(SIGNATURE.slice(2, 130)).addRecoveryBit(0);
    assert.equal(known.verify(SIGNER, eip191Digest(ENCODED), sig), undefined);
    assert.equal(signerOf(ENCODED, SIGNATURE, SIGNER, known), SIGNER);
    // Learned: the cached key itself verifies the vector, and refuses it over another message.
    assert.equal(known.verify(SIGNER, eip191Digest(ENCODED), sig), true);
    assert.equal(known.verify(SIGNER, eip191Digest('other'), sig), false);
    assert.equal(signerOf(ENCODED, SIGNATURE, SIGNER, known), SIGNER);
    const tampered = base64url(canonicalJson({ ...SPEC_PAYLOAD, grantId: '0x2' }));
    // The vector's signature over another payload is not the signer's: the cached key says no, recovery names
    // whoever it is.
    const other = signerOf(tampered, SIGNATURE, SIGNER, known);
    assert.notEqual(other, SIGNER);
    assert.equal(other, recoverEip191Signer(tampered, SIGNATURE));
  });
});
