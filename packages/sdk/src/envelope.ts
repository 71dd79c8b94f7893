import { secp256k1 } from '@noble/curves/secp256k1';
import { hkdf } from '@noble/hashes/hkdf';
import { sha256 } from '@noble/hashes/sha2';
import { getAddress, publicKeyToAddress } from 'viem/utils';
import { type ByteSource, fromHex, iterateBytes, toHex } from './bytes';

/**
 * The client-side envelope (`HEV1`, libs/crypto/ENVELOPE.md) produced with @noble/curves for the ECDH and a
 * pluggable AES-256-GCM: WebCrypto everywhere, node:crypto when the Node entry point installs it (faster for
 * 64 KiB chunks). The bytes are the same either way.
 */
export const ENVELOPE_CONTENT_TYPE = 'application/vnd.hearth.envelope';
export const ENVELOPE_HEADER_LENGTH = 62;
export const ENVELOPE_DEFAULT_CHUNK_SIZE = 65_536;
const MAX_CHUNK_SIZE = 16_777_216;
const FRAME_HEADER = 5;
const NONCE = 12;
const TAG = 16;
const INFO = new TextEncoder().encode('hearth envelope v1');

/** Seals one chunk: returns ciphertext || 16-byte tag. */
export type ChunkSealer = (nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** AES-256-GCM for one envelope key. */
export interface AeadBackend {
  name: string;
  /** How many chunks may be in flight at once (asynchronous backends overlap their work). */
  concurrency: number;
  sealer(key: Uint8Array): Promise<ChunkSealer>;
}

export const webCryptoAead: AeadBackend = {
  name: 'webcrypto',
  concurrency: 4,
  async sealer(key) {
    const subtle = globalThis.crypto?.subtle;
    if (!subtle) throw new Error('WebCrypto (crypto.subtle) is not available here');
    const k = await subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, 'AES-GCM', false, ['encrypt']);
    return async (nonce, aad, plaintext) =>
      new Uint8Array(
        await subtle.encrypt(
          { name: 'AES-GCM', iv: nonce as Uint8Array<ArrayBuffer>, additionalData: aad as Uint8Array<ArrayBuffer> },
          k,
          plaintext as Uint8Array<ArrayBuffer>,
        ),
      );
  },
};

let defaultAead: AeadBackend = webCryptoAead;

/** Installs the AES-GCM backend `encryptForServer` uses by default (the Node entry point installs node:crypto). */
export function setDefaultAead(backend: AeadBackend): void {
  defaultAead = backend;
}

export function getDefaultAead(): AeadBackend {
  return defaultAead;
}

/** The recipient: a server as `GET /v1/servers/:id` shows it (or just its public key). */
export interface EnvelopeRecipient {
  /** Uncompressed (0x04…) or compressed secp256k1 public key, hex. */
  publicKey: string;
  /** When given, checked against the public key (a mismatch is refused before anything is encrypted). */
  address?: string;
}

export interface EncryptForServerOptions {
  chunkSize?: number;
  /** Test vectors only: a fixed ephemeral key makes the output deterministic. Never reuse one. */
  ephemeralPrivateKey?: Uint8Array;
  aead?: AeadBackend;
  /** Called with the plaintext bytes consumed so far. */
  onProgress?: (plaintextBytes: number) => void;
}

function u32(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value, false);
}

/**
 * Encrypts `source` to the server's key as an envelope, streaming: yields the header, then one frame per
 * chunk, without holding more than a few chunks. Identical bytes to libs/crypto's `encryptEnvelope` for the
 * same ephemeral key.
 */
export async function* encryptForServer(
  recipient: EnvelopeRecipient,
  source: ByteSource,
  options: EncryptForServerOptions = {},
): AsyncGenerator<Uint8Array> {
  const chunkSize = options.chunkSize ?? ENVELOPE_DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new RangeError(`chunkSize must be an integer in [1, ${MAX_CHUNK_SIZE}]`);
  }
  const recipientPoint = secp256k1.ProjectivePoint.fromHex(fromHex(recipient.publicKey));
  const uncompressed = `0x${toHex(recipientPoint.toRawBytes(false))}` as `0x${string}`;
  const address = publicKeyToAddress(uncompressed);
  if (recipient.address !== undefined && getAddress(recipient.address) !== address) {
    throw new Error(`the public key is ${address}'s, not ${recipient.address}'s`);
  }
  const eph = options.ephemeralPrivateKey ?? secp256k1.utils.randomPrivateKey();
  const header = new Uint8Array(ENVELOPE_HEADER_LENGTH);
  header.set([0x48, 0x45, 0x56, 0x31, 0x01]);
  header.set(fromHex(address), 5);
  header.set(secp256k1.getPublicKey(eph, true), 25);
  u32(new DataView(header.buffer), 58, chunkSize);
  const shared = secp256k1.getSharedSecret(eph, recipientPoint.toRawBytes(true), true);
  const key = hkdf(sha256, shared.subarray(1), header, INFO, 32);
  shared.fill(0);
  if (!options.ephemeralPrivateKey) eph.fill(0);
  const backend = options.aead ?? defaultAead;
  const seal = await backend.sealer(key);
  key.fill(0);

  const frame = async (index: number, isFinal: boolean, plaintext: Uint8Array): Promise<Uint8Array> => {
    const aad = new Uint8Array(ENVELOPE_HEADER_LENGTH + 5);
    aad.set(header);
    const aadView = new DataView(aad.buffer);
    u32(aadView, ENVELOPE_HEADER_LENGTH, index);
    aad[ENVELOPE_HEADER_LENGTH + 4] = isFinal ? 1 : 0;
    const nonce = new Uint8Array(NONCE);
    u32(new DataView(nonce.buffer), 8, index);
    const sealed = await seal(nonce, aad, plaintext);
    if (sealed.byteLength !== plaintext.byteLength + TAG) throw new Error('AEAD backend returned a bad length');
    const out = new Uint8Array(FRAME_HEADER + NONCE + sealed.byteLength);
    const view = new DataView(out.buffer);
    out[0] = isFinal ? 1 : 0;
    u32(view, 1, NONCE + sealed.byteLength);
    out.set(nonce, FRAME_HEADER);
    out.set(sealed, FRAME_HEADER + NONCE);
    return out;
  };

  yield header;
  // Chunks in flight, in order; a chunk is sealed as non-final only once a byte after it has arrived.
  const inflight: Array<Promise<Uint8Array>> = [];
  const start = (index: number, isFinal: boolean, plaintext: Uint8Array): void => {
    const p = frame(index, isFinal, plaintext);
    p.catch(() => undefined); // awaited in order below; a failure left behind by an abort is not unhandled
    inflight.push(p);
  };
  const depth = Math.max(1, backend.concurrency);
  let pending = new Uint8Array(chunkSize);
  let fill = 0;
  let index = 0;
  let consumed = 0;
  for await (const piece of iterateBytes(source)) {
    let offset = 0;
    while (offset < piece.byteLength) {
      if (fill === chunkSize) {
        start(index++, false, pending);
        // Each sealed chunk keeps its own buffer: asynchronous backends may still be reading it.
        pending = new Uint8Array(chunkSize);
        fill = 0;
        if (inflight.length >= depth) yield await (inflight.shift() as Promise<Uint8Array>);
      }
      const take = Math.min(chunkSize - fill, piece.byteLength - offset);
      pending.set(piece.subarray(offset, offset + take), fill);
      fill += take;
      offset += take;
    }
    consumed += piece.byteLength;
    options.onProgress?.(consumed);
  }
  start(index, true, pending.subarray(0, fill));
  while (inflight.length) yield await (inflight.shift() as Promise<Uint8Array>);
}

/** The whole envelope in memory (small inputs, tests). */
export async function encryptForServerToBytes(
  recipient: EnvelopeRecipient,
  source: ByteSource,
  options?: EncryptForServerOptions,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const part of encryptForServer(recipient, source, options)) {
    parts.push(part);
    length += part.byteLength;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}
