import { secp256k1 } from '@noble/curves/secp256k1';
import { keccak_256 } from '@noble/hashes/sha3';
import { createHash } from 'node:crypto';
import { getAddress, type Hex } from 'viem';

/**
 * Web3Signed request authorization of the Data Portability Protocol (spec §4.1.9.1):
 * `Authorization: Web3Signed <base64url(canonical JSON)>.<EIP-191 signature over that base64url text>`.
 * The payload names the audience (the server's origin), the method, the request-target (`uri`, query string
 * included), the body's SHA-256, and an `iat`/`exp` window; `grantId` rides along for raw data reads.
 */
export interface Web3SignedPayload {
  aud: string;
  method: string;
  uri: string;
  bodyHash: string;
  iat: number;
  exp: number;
  grantId?: string;
}

export const WEB3_SIGNED_SCHEME = 'Web3Signed';

/** Why a header was refused; each maps to one stable problem code in the gateway. */
export type Web3SignedFailure =
  | 'missing' // no Authorization header, or another scheme
  | 'malformed' // not `<base64url>.<0x signature>`, or a payload that is not the expected JSON object
  | 'bad_signature' // the signature does not recover
  | 'wrong_audience'
  | 'wrong_method'
  | 'wrong_uri'
  | 'wrong_body_hash'
  | 'expired' // exp is behind the clock (beyond the skew)
  | 'not_yet_valid' // iat is ahead of the clock (beyond the skew)
  | 'window_too_long'; // exp - iat is longer than the skew window

export class Web3SignedError extends Error {
  constructor(
    readonly failure: Web3SignedFailure,
    message: string,
  ) {
    super(message);
    this.name = 'Web3SignedError';
  }
}

/** JSON with object keys sorted (UTF-16 code unit order) at every level; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

export function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** The `bodyHash` of a body: "" for none (as for a GET), else the lowercase hex SHA-256 of its bytes. */
export function bodyHashOf(body: Uint8Array | string | undefined): string {
  if (body === undefined || body.length === 0) return '';
  return createHash('sha256').update(body).digest('hex');
}

/** The header value for a payload, signed by `signMessage` (EIP-191 personal_sign, e.g. a viem account's). */
export async function web3SignedHeader(
  payload: Web3SignedPayload,
  signMessage: (args: { message: string }) => Promise<Hex>,
): Promise<string> {
  const encoded = base64url(canonicalJson(payload));
  const signature = await signMessage({ message: encoded });
  return `${WEB3_SIGNED_SCHEME} ${encoded}.${signature}`;
}

export interface ParsedWeb3Signed {
  /** The base64url text as sent: what was signed. */
  encoded: string;
  payload: Web3SignedPayload;
  signature: Hex;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;

/** Splits and decodes the header; refuses anything that is not exactly the spec's form. */
export function parseWeb3Signed(authorization: string | undefined): ParsedWeb3Signed {
  if (!authorization?.startsWith(`${WEB3_SIGNED_SCHEME} `)) {
    throw new Web3SignedError('missing', 'Authorization: Web3Signed <payload>.<signature> is required');
  }
  const value = authorization.slice(WEB3_SIGNED_SCHEME.length + 1).trim();
  const dot = value.indexOf('.');
  const encoded = value.slice(0, dot);
  const signature = value.slice(dot + 1);
  if (dot <= 0 || !BASE64URL.test(encoded) || !SIGNATURE.test(signature)) {
    throw new Web3SignedError('malformed', 'the header is not <base64url payload>.<0x 65-byte signature>');
  }
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw new Web3SignedError('malformed', 'the payload is not base64url JSON');
  }
  if (!isPayload(payload)) {
    throw new Web3SignedError(
      'malformed',
      'the payload needs aud, method, uri, bodyHash (strings), iat, exp (integers) and an optional grantId',
    );
  }
  return { encoded, payload, signature: signature as Hex };
}

function isPayload(v: unknown): v is Web3SignedPayload {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const p = v as Record<string, unknown>;
  return (
    typeof p.aud === 'string' &&
    typeof p.method === 'string' &&
    typeof p.uri === 'string' &&
    typeof p.bodyHash === 'string' &&
    Number.isSafeInteger(p.iat) &&
    Number.isSafeInteger(p.exp) &&
    (p.grantId === undefined || typeof p.grantId === 'string')
  );
}

/** The EIP-191 digest of a personal_sign over `message` (what wallets sign). */
export function eip191Digest(message: string): Uint8Array {
  const bytes = Buffer.from(message, 'utf8');
  return keccak_256(Buffer.concat([Buffer.from(`\x19Ethereum Signed Message:\n${bytes.length}`), bytes]));
}

type Point = InstanceType<typeof secp256k1.ProjectivePoint>;
type Signature = ReturnType<typeof secp256k1.Signature.fromCompact>;

function signatureOf(signature: Hex): Signature {
  const bytes = Buffer.from(signature.slice(2), 'hex');
  let v = bytes[64];
  if (v >= 27) v -= 27;
  if (v !== 0 && v !== 1)
    throw new Web3SignedError('bad_signature', 'the signature has no valid recovery id');
  try {
    const sig = secp256k1.Signature.fromCompact(bytes.subarray(0, 64)).addRecoveryBit(v);
    if (sig.hasHighS()) throw new Error('high s');
    return sig;
  } catch {
    throw new Web3SignedError('bad_signature', 'the signature is not a valid low-s secp256k1 signature');
  }
}

function addressOf(point: Point): Hex {
  const uncompressed = point.toRawBytes(false).subarray(1);
  return getAddress(`0x${Buffer.from(keccak_256(uncompressed).subarray(12)).toString('hex')}`);
}

function recoverPoint(digest: Uint8Array, sig: Signature): Point {
  try {
    return sig.recoverPublicKey(digest);
  } catch {
    throw new Web3SignedError('bad_signature', 'the signature does not recover to an address');
  }
}

/**
 * The address that signed `message` (EIP-191). Synchronous noble recovery: no dynamic import or promise per
 * request. Only low-s signatures (EIP-2) are accepted, so one signed payload has exactly one valid signature.
 */
export function recoverEip191Signer(message: string, signature: Hex): Hex {
  return addressOf(recoverPoint(eip191Digest(message), signatureOf(signature)));
}

const N = secp256k1.CURVE.n;
const G = secp256k1.ProjectivePoint.BASE;

function mod(a: bigint): bigint {
  const r = a % N;
  return r >= 0n ? r : r + N;
}

function invert(a: bigint): bigint {
  // Extended Euclid over the group order (prime): a^-1 mod N.
  let [oldR, r] = [mod(a), N];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return mod(oldS);
}

/**
 * Public keys of signers seen before, with precomputed multiples: checking a signature against a known key costs
 * about 40% of recovering its signer (the key's half of the verification equation uses the table, as the
 * generator's does). A builder's every request is checked against the grantee the registry names, so after its
 * first request none is recovered. Bounded: the oldest entry goes first.
 */
export class KnownSigners {
  private readonly points = new Map<string, Point>();

  constructor(
    private readonly maxEntries = 256,
    private readonly windowSize = 6,
  ) {}

  /** Whether `address` signed `digest` with `sig`; undefined when its key is not known yet. */
  verify(address: Hex, digest: Uint8Array, sig: Signature): boolean | undefined {
    const q = this.points.get(address.toLowerCase());
    if (!q) return undefined;
    const h = mod(BigInt(`0x${Buffer.from(digest).toString('hex')}`));
    const sInv = invert(sig.s);
    const u1 = mod(h * sInv);
    // A zero scalar (a digest ≡ 0 mod n) is not worth a special case: recovery decides.
    if (u1 === 0n) return undefined;
    const r = G.multiply(u1).add(q.multiply(mod(sig.r * sInv)));
    if (r.equals(secp256k1.ProjectivePoint.ZERO)) return false;
    return mod(r.toAffine().x) === sig.r;
  }

  learn(address: Hex, point: Point): void {
    const key = address.toLowerCase();
    if (this.points.has(key)) return;
    if (this.points.size >= this.maxEntries) this.points.delete(this.points.keys().next().value!);
    point._setWindowSize(this.windowSize);
    point.multiply(1n); // builds the table now, once
    this.points.set(key, point);
  }
}

/** The signer of an EIP-191 `message`: checked against `expected` when its key is known, else recovered. */
export function signerOf(message: string, signature: Hex, expected?: Hex, known?: KnownSigners): Hex {
  const sig = signatureOf(signature);
  const digest = eip191Digest(message);
  if (expected && known?.verify(expected, digest, sig)) return getAddress(expected);
  const point = recoverPoint(digest, sig);
  const address = addressOf(point);
  known?.learn(address, point);
  return address;
}

export interface Web3SignedExpectations {
  /** The origins this server answers as (the `aud` must be one of them, exactly). */
  audiences: readonly string[];
  method: string;
  /** The request-target as received: path and query string, exactly as the client sent them. */
  uri: string;
  /** The raw request body (undefined or empty for none). */
  body?: Uint8Array;
  /** Seconds; the server's clock. */
  now: number;
  skewSeconds: number;
}

export interface VerifiedWeb3Signed extends ParsedWeb3Signed {
  signer: Hex;
}

function bodyHashMatches(claimed: string, body: Uint8Array | undefined): boolean {
  const actual = bodyHashOf(body);
  if (actual === '') return claimed === '';
  const hex = claimed.toLowerCase().replace(/^(0x|sha256:)/, '');
  return hex === actual;
}

/**
 * Every check of §4.1.9.1 that needs no registry: the claims against the request, the time window, then the
 * signature (last: the costliest step runs only for a request that could be valid). The caller checks the
 * signer against the registries and that the payload was not seen before.
 */
export function verifyWeb3Signed(
  authorization: string | undefined,
  expect: Web3SignedExpectations,
  signer?: { expected?: Hex; known?: KnownSigners },
): VerifiedWeb3Signed {
  const parsed = parseWeb3Signed(authorization);
  const { payload } = parsed;
  if (!expect.audiences.includes(payload.aud)) {
    throw new Web3SignedError('wrong_audience', `aud must be this server's origin (${expect.audiences[0]})`);
  }
  if (payload.method !== expect.method) {
    throw new Web3SignedError('wrong_method', `method must be ${expect.method}`);
  }
  if (payload.uri !== expect.uri) {
    throw new Web3SignedError('wrong_uri', 'uri must be the request path with its query string, as sent');
  }
  if (!bodyHashMatches(payload.bodyHash, expect.body)) {
    throw new Web3SignedError('wrong_body_hash', 'bodyHash is not the SHA-256 of the body ("" for none)');
  }
  if (payload.exp < expect.now - expect.skewSeconds || payload.exp < payload.iat) {
    throw new Web3SignedError('expired', 'the signed request has expired');
  }
  if (payload.iat > expect.now + expect.skewSeconds) {
    throw new Web3SignedError('not_yet_valid', 'iat is in the future');
  }
  if (payload.exp - payload.iat > expect.skewSeconds) {
    throw new Web3SignedError('window_too_long', `exp - iat may be at most ${expect.skewSeconds} seconds`);
  }
  return { ...parsed, signer: signerOf(parsed.encoded, parsed.signature, signer?.expected, signer?.known) };
}
