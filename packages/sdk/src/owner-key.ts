import { mapHashToField } from '@noble/curves/abstract/modular';
import { secp256k1 } from '@noble/curves/secp256k1';
import { hkdf } from '@noble/hashes/hkdf';
import { sha256 } from '@noble/hashes/sha2';
import { getAddress, publicKeyToAddress } from 'viem/utils';
import { asBufferSource, type ByteSource, fromHex, iterateBytes, toHex } from './bytes';
import { ENVELOPE_HEADER_LENGTH, ENVELOPE_V2_HEADER_LENGTH, OWNER_INFO } from './envelope';

/**
 * The owner key: a secp256k1 key the owner's wallet re-derives whenever it is needed (it is never stored), the
 * second recipient of a version 2 envelope (libs/crypto/ENVELOPE.md, "Owner slot"). Reading an envelope back
 * needs only this key, never the server's.
 */
const OWNER_KEY_SALT = new TextEncoder().encode('hearth owner key v1');
const V2_SALT_LENGTH = 82;
const FRAME_HEADER = 5;
const OVERHEAD = 28;

/** The fixed message the wallet signs (EIP-191 personal_sign) to derive the owner key for one server. */
export function ownerKeyMessage(serverAddress: string): string {
  return `Hearth owner key v1 for ${getAddress(serverAddress)}`;
}

/** HKDF-SHA256(signature, salt "hearth owner key v1", info = server address, 48 bytes) → a scalar in [1, n-1]. */
export function ownerKeyFromSignature(signature: string, serverAddress: string): Uint8Array {
  const sig = fromHex(signature);
  if (sig.length !== 65) throw new Error('the signature must be 65 bytes');
  const okm = hkdf(sha256, sig, OWNER_KEY_SALT, fromHex(serverAddress), 48);
  const key = mapHashToField(okm, secp256k1.CURVE.n);
  okm.fill(0);
  return key;
}

/** The owner key's public key (uncompressed hex) and address, for `encryptForServer`'s `ownerPublicKey`. */
export function ownerPublicKey(ownerKey: Uint8Array): { publicKey: `0x${string}`; address: `0x${string}` } {
  const publicKey: `0x${string}` = `0x${toHex(secp256k1.getPublicKey(ownerKey, false))}`;
  return { publicKey, address: publicKeyToAddress(publicKey) };
}

/** Signs the fixed message with the wallet and derives the owner key for this server. */
export async function deriveOwnerKey(
  signMessage: (message: string) => Promise<string>,
  serverAddress: string,
): Promise<Uint8Array> {
  return ownerKeyFromSignature(await signMessage(ownerKeyMessage(serverAddress)), serverAddress);
}

export class EnvelopeReadError extends Error {
  constructor(
    readonly code: 'envelope_malformed' | 'no_owner_slot' | 'wrong_owner_key' | 'ciphertext_invalid',
    message: string,
  ) {
    super(message);
    this.name = 'EnvelopeReadError';
  }
}

/** Pulls exact byte counts out of a stream of pieces. */
class Reader {
  private buffered: Uint8Array[] = [];
  private length = 0;
  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  /** Exactly n bytes, or fewer only at the end of the input. */
  async take(n: number): Promise<Uint8Array> {
    while (this.length < n) {
      const next = await this.source.next();
      if (next.done) break;
      this.buffered.push(next.value);
      this.length += next.value.byteLength;
    }
    const size = Math.min(n, this.length);
    const out = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const head = this.buffered[0];
      const count = Math.min(size - filled, head.byteLength);
      out.set(head.subarray(0, count), filled);
      filled += count;
      if (count === head.byteLength) this.buffered.shift();
      else this.buffered[0] = head.subarray(count);
    }
    this.length -= size;
    return out;
  }
}

/**
 * Opens a version 2 envelope with the owner key, streaming (WebCrypto AES-GCM; one chunk in memory at a time).
 * Yields each chunk's plaintext once it authenticates; if it then throws (tampered, truncated), discard what
 * it yielded.
 */
export async function* decryptAsOwner(ownerKey: Uint8Array, source: ByteSource): AsyncGenerator<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('WebCrypto (crypto.subtle) is not available here');
  const reader = new Reader(iterateBytes(source)[Symbol.asyncIterator]());
  const start = await reader.take(ENVELOPE_HEADER_LENGTH);
  const magic = String.fromCharCode(...start.subarray(0, 4));
  if (start.length < ENVELOPE_HEADER_LENGTH || magic !== 'HEV1')
    throw new EnvelopeReadError('envelope_malformed', 'not an envelope');
  if (start[4] === 1)
    throw new EnvelopeReadError('no_owner_slot', 'this envelope has no owner slot (version 1)');
  if (start[4] !== 2) throw new EnvelopeReadError('envelope_malformed', `unsupported version ${start[4]}`);
  const rest = await reader.take(ENVELOPE_V2_HEADER_LENGTH - ENVELOPE_HEADER_LENGTH);
  if (rest.length !== ENVELOPE_V2_HEADER_LENGTH - ENVELOPE_HEADER_LENGTH)
    throw new EnvelopeReadError('envelope_malformed', 'envelope shorter than its header');
  const header = new Uint8Array(ENVELOPE_V2_HEADER_LENGTH);
  header.set(start);
  header.set(rest, ENVELOPE_HEADER_LENGTH);
  const owner = `0x${toHex(header.subarray(62, 82))}`;
  if (getAddress(owner) !== ownerPublicKey(ownerKey).address)
    throw new EnvelopeReadError('wrong_owner_key', `the owner slot is for ${getAddress(owner)}`);
  const salt = header.subarray(0, V2_SALT_LENGTH);
  const chunkSize = new DataView(header.buffer).getUint32(58, false);
  const shared = secp256k1.getSharedSecret(ownerKey, header.subarray(25, 58), true);
  const kekBytes = hkdf(sha256, shared.subarray(1), salt, OWNER_INFO, 32);
  shared.fill(0);
  const kek = await subtle.importKey('raw', asBufferSource(kekBytes), 'AES-GCM', false, ['decrypt']);
  kekBytes.fill(0);
  let keyBytes: Uint8Array;
  try {
    keyBytes = new Uint8Array(
      await subtle.decrypt(
        { name: 'AES-GCM', iv: new Uint8Array(12), additionalData: asBufferSource(salt) },
        kek,
        asBufferSource(header.subarray(V2_SALT_LENGTH)),
      ),
    );
  } catch {
    throw new EnvelopeReadError('ciphertext_invalid', 'the owner slot does not open with this key');
  }
  const key = await subtle.importKey('raw', keyBytes as Uint8Array<ArrayBuffer>, 'AES-GCM', false, [
    'decrypt',
  ]);
  keyBytes.fill(0);
  const aad = new Uint8Array(ENVELOPE_V2_HEADER_LENGTH + 5);
  aad.set(header);
  const aadView = new DataView(aad.buffer);
  for (let index = 0; ; index++) {
    const frame = await reader.take(FRAME_HEADER);
    if (frame.length < FRAME_HEADER)
      throw new EnvelopeReadError('ciphertext_invalid', 'envelope is truncated');
    const isFinal = frame[0] === 1;
    if (frame[0] > 1) throw new EnvelopeReadError('envelope_malformed', 'unknown chunk flags');
    const sealedLength = new DataView(frame.buffer, frame.byteOffset).getUint32(1, false);
    if (
      isFinal
        ? sealedLength < OVERHEAD || sealedLength > chunkSize + OVERHEAD
        : sealedLength !== chunkSize + OVERHEAD
    )
      throw new EnvelopeReadError('envelope_malformed', `chunk ${index} has an invalid length`);
    const sealed = await reader.take(sealedLength);
    if (sealed.length < sealedLength)
      throw new EnvelopeReadError('ciphertext_invalid', 'envelope is truncated');
    aadView.setUint32(ENVELOPE_V2_HEADER_LENGTH, index, false);
    aad[ENVELOPE_V2_HEADER_LENGTH + 4] = isFinal ? 1 : 0;
    let plaintext: ArrayBuffer;
    try {
      plaintext = await subtle.decrypt(
        { name: 'AES-GCM', iv: asBufferSource(sealed.subarray(0, 12)), additionalData: aad },
        key,
        asBufferSource(sealed.subarray(12)),
      );
    } catch {
      throw new EnvelopeReadError('ciphertext_invalid', `chunk ${index} does not authenticate`);
    }
    yield new Uint8Array(plaintext);
    if (isFinal) break;
  }
  const trailing = await reader.take(1);
  if (trailing.length > 0) throw new EnvelopeReadError('ciphertext_invalid', 'data after the final chunk');
}
