import { secp256k1 } from '@noble/curves/secp256k1';
import { hkdf } from '@noble/hashes/hkdf';
import { sha256 } from '@noble/hashes/sha2';
import { getAddress, publicKeyToAddress } from 'viem/utils';
import { asBufferSource, type ByteSource, byteIterable, fromHex, toHex } from './bytes';

/**
 * The client-side envelope (`HEV1`, libs/crypto/ENVELOPE.md) produced with @noble/curves for the ECDH and a
 * pluggable AES-256-GCM: WebCrypto everywhere, node:crypto when the Node entry point installs it (faster for
 * 64 KiB chunks). The bytes are the same either way.
 */
export const ENVELOPE_CONTENT_TYPE = 'application/vnd.hearth.envelope';
export const ENVELOPE_HEADER_LENGTH = 62;
/** Version 2 (with the owner slot): version 1's 62 bytes, the owner key's address (20), the wrapped key (48). */
export const ENVELOPE_V2_HEADER_LENGTH = 130;
const V2_SALT_LENGTH = 82;
export const ENVELOPE_DEFAULT_CHUNK_SIZE = 65_536;
const MAX_CHUNK_SIZE = 16_777_216;
const FRAME_HEADER = 5;
const NONCE = 12;
const TAG = 16;
const INFO = new TextEncoder().encode('hearth envelope v1');
const INFO_V2 = new TextEncoder().encode('hearth envelope v2');
export const OWNER_INFO = new TextEncoder().encode('hearth envelope v2 owner');

/**
 * Seals one chunk: returns ciphertext || 16-byte tag, as one buffer or as parts in order (so a backend that
 * produces them apart need not copy them together).
 */
export type ChunkSealer = (
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
) => Uint8Array | Uint8Array[] | Promise<Uint8Array | Uint8Array[]>;

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
          {
            name: 'AES-GCM',
            iv: nonce as Uint8Array<ArrayBuffer>,
            additionalData: aad as Uint8Array<ArrayBuffer>,
          },
          k,
          asBufferSource(plaintext),
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
  /**
   * The owner key's public key (hex; `ownerKeyFromSignature` in ./owner-key): writes a version 2 envelope whose
   * data key is also wrapped for it, so the owner can read the file back (`decryptAsOwner`).
   */
  ownerPublicKey?: string;
  /** Called with the plaintext bytes consumed so far. */
  onProgress?: (plaintextBytes: number) => void;
}

/** The owner slot: AES-256-GCM(kek, nonce = 12 zero bytes, aad = the 82-byte salt, data key) → 48 bytes. */
async function wrapKey(kek: Uint8Array, salt: Uint8Array, key: Uint8Array): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('WebCrypto (crypto.subtle) is not available here');
  const k = await subtle.importKey('raw', kek as Uint8Array<ArrayBuffer>, 'AES-GCM', false, ['encrypt']);
  return new Uint8Array(
    await subtle.encrypt(
      { name: 'AES-GCM', iv: new Uint8Array(12), additionalData: salt as Uint8Array<ArrayBuffer> },
      k,
      asBufferSource(key),
    ),
  );
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
  const uncompressed: `0x${string}` = `0x${toHex(recipientPoint.toRawBytes(false))}`;
  const address = publicKeyToAddress(uncompressed);
  if (recipient.address !== undefined && getAddress(recipient.address) !== address) {
    throw new Error(`the public key is ${address}'s, not ${recipient.address}'s`);
  }
  const eph = options.ephemeralPrivateKey ?? secp256k1.utils.randomPrivateKey();
  const owner =
    options.ownerPublicKey === undefined
      ? undefined
      : secp256k1.ProjectivePoint.fromHex(fromHex(options.ownerPublicKey));
  const headerLength = owner ? ENVELOPE_V2_HEADER_LENGTH : ENVELOPE_HEADER_LENGTH;
  const header = new Uint8Array(headerLength);
  header.set([0x48, 0x45, 0x56, 0x31, owner ? 0x02 : 0x01]);
  header.set(fromHex(address), 5);
  header.set(secp256k1.getPublicKey(eph, true), 25);
  u32(new DataView(header.buffer), 58, chunkSize);
  const shared = secp256k1.getSharedSecret(eph, recipientPoint.toRawBytes(true), true);
  let key: Uint8Array;
  if (owner) {
    header.set(fromHex(publicKeyToAddress(`0x${toHex(owner.toRawBytes(false))}`)), 62);
    const salt = header.subarray(0, V2_SALT_LENGTH);
    key = hkdf(sha256, shared.subarray(1), salt, INFO_V2, 32);
    const ownerShared = secp256k1.getSharedSecret(eph, owner.toRawBytes(true), true);
    const kek = hkdf(sha256, ownerShared.subarray(1), salt, OWNER_INFO, 32);
    ownerShared.fill(0);
    header.set(await wrapKey(kek, salt, key), V2_SALT_LENGTH);
    kek.fill(0);
  } else {
    key = hkdf(sha256, shared.subarray(1), header, INFO, 32);
  }
  shared.fill(0);
  if (!options.ephemeralPrivateKey) eph.fill(0);
  const backend = options.aead ?? defaultAead;
  const seal = await backend.sealer(key);
  key.fill(0);

  /** One frame as parts: flags || u32 length || nonce, then the sealed bytes (not copied together). */
  const frame = (
    index: number,
    isFinal: boolean,
    plaintext: Uint8Array,
  ): Uint8Array[] | Promise<Uint8Array[]> => {
    const aad = new Uint8Array(headerLength + 5);
    aad.set(header);
    u32(new DataView(aad.buffer), headerLength, index);
    aad[headerLength + 4] = isFinal ? 1 : 0;
    const prefix = new Uint8Array(FRAME_HEADER + NONCE);
    const view = new DataView(prefix.buffer);
    prefix[0] = isFinal ? 1 : 0;
    u32(view, 1, NONCE + plaintext.byteLength + TAG);
    u32(view, FRAME_HEADER + 8, index);
    const nonce = prefix.subarray(FRAME_HEADER);
    const assemble = (sealed: Uint8Array | Uint8Array[]): Uint8Array[] => {
      const parts = Array.isArray(sealed) ? sealed : [sealed];
      let length = 0;
      for (const part of parts) length += part.byteLength;
      if (length !== plaintext.byteLength + TAG) throw new Error('AEAD backend returned a bad length');
      return [prefix, ...parts];
    };
    const sealed = seal(nonce, aad, plaintext);
    return sealed instanceof Promise ? sealed.then(assemble) : assemble(sealed);
  };

  yield header;
  // Frames in flight, in order (asynchronous backends only); a chunk is sealed as non-final only once a byte
  // after it has arrived, so the last chunk seen is held until then.
  const inflight: Array<Uint8Array[] | Promise<Uint8Array[]>> = [];
  const depth = Math.max(1, backend.concurrency);
  const start = (index: number, isFinal: boolean, plaintext: Uint8Array): void => {
    const f = frame(index, isFinal, plaintext);
    if (f instanceof Promise) f.catch(() => undefined); // awaited in order below; not unhandled after an abort
    inflight.push(f);
  };
  let held: Uint8Array | undefined; // a full chunk waiting to learn whether it is the last
  let pending = new Uint8Array(chunkSize);
  let fill = 0;
  let index = 0;
  let consumed = 0;
  for await (const item of byteIterable(source)) {
    const piece = typeof item === 'string' ? new TextEncoder().encode(item) : item;
    let offset = 0;
    while (offset < piece.byteLength) {
      if (held) {
        start(index++, false, held);
        held = undefined;
        while (inflight.length >= depth) {
          const next = inflight.shift() as Uint8Array[] | Promise<Uint8Array[]>;
          for (const part of next instanceof Promise ? await next : next) yield part;
        }
      }
      if (fill === 0 && piece.byteLength - offset >= chunkSize) {
        // Aligned: the chunk is a view of the piece itself, no copy (pieces are not changed once yielded).
        held = piece.subarray(offset, offset + chunkSize);
        offset += chunkSize;
        continue;
      }
      const take = Math.min(chunkSize - fill, piece.byteLength - offset);
      pending.set(piece.subarray(offset, offset + take), fill);
      fill += take;
      offset += take;
      if (fill === chunkSize) {
        held = pending;
        // The held chunk keeps its buffer: asynchronous backends may still be reading it.
        pending = new Uint8Array(chunkSize);
        fill = 0;
      }
    }
    consumed += piece.byteLength;
    options.onProgress?.(consumed);
  }
  start(index, true, held ?? pending.subarray(0, fill));
  while (inflight.length) {
    const next = inflight.shift() as Uint8Array[] | Promise<Uint8Array[]>;
    for (const part of next instanceof Promise ? await next : next) yield part;
  }
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
