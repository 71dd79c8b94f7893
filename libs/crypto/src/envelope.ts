import { secp256k1 } from '@noble/curves/secp256k1';
import { hkdf } from '@noble/hashes/hkdf';
import { sha256 } from '@noble/hashes/sha2';
import { mapHashToField } from '@noble/curves/abstract/modular';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import {
  ByteQueue,
  CHUNK_OVERHEAD,
  DEFAULT_CHUNK_SIZE,
  MAX_CHUNK_SIZE,
  openChunk,
  sealChunk,
} from './chunks';
import { CryptoError } from './errors';
import {
  addressFromBytes,
  type Hex,
  type PrivateKeyInput,
  publicKeyToAddress,
  type PublicKeyInput,
  toPrivateKeyBytes,
  toPublicKeyPoint,
} from './identity';

/**
 * Client-side envelope ("HEV1"), encrypted to a server's secp256k1 public key. The byte format
 * is specified in libs/crypto/ENVELOPE.md; keep both in step.
 */
export const ENVELOPE_CONTENT_TYPE = 'application/vnd.hearth.envelope';
export const ENVELOPE_MAGIC = Buffer.from('HEV1', 'ascii');
export const ENVELOPE_VERSION = 1;
/** Version 2: version 1's fields plus an owner slot (the same data key, wrapped for the owner's key). */
export const ENVELOPE_VERSION_OWNER = 2;
export const ENVELOPE_HEADER_LENGTH = 62;
export const ENVELOPE_V2_HEADER_LENGTH = 130;
/** Version 2: bytes 0…81 (everything but the wrapped key) are the HKDF salt of both keys. */
const V2_SALT_LENGTH = 82;
const WRAPPED_KEY_LENGTH = 48;
export const ENVELOPE_FRAME_HEADER_LENGTH = 5;
const HKDF_INFO = Buffer.from('hearth envelope v1', 'ascii');
const HKDF_INFO_V2 = Buffer.from('hearth envelope v2', 'ascii');
const HKDF_INFO_OWNER = Buffer.from('hearth envelope v2 owner', 'ascii');
const OWNER_KEY_SALT = Buffer.from('hearth owner key v1', 'ascii');
const FLAG_FINAL = 0x01;

export interface EnvelopeHeader {
  version: number;
  /** EIP-55 address of the recipient server key. */
  recipient: Hex;
  /** Ephemeral public key, compressed (33 bytes). */
  ephemeralPublicKey: Buffer;
  /** Plaintext bytes per non-final chunk. */
  chunkSize: number;
  headerLength: number;
  /** The raw header bytes (each chunk's AAD context; in version 1 also the HKDF salt). */
  raw: Buffer;
  /** The HKDF salt: the whole header in version 1, its first 82 bytes in version 2. */
  keySalt: Buffer;
  /** Version 2: EIP-55 address of the owner key the data key is also wrapped for. */
  owner?: Hex;
  /** Version 2: the data key under the owner's key-encryption key (AES-256-GCM, 32 + 16 bytes). */
  ownerWrappedKey?: Buffer;
}

export interface EnvelopeEncryptOptions {
  chunkSize?: number;
  /**
   * A second recipient the owner controls (its secp256k1 public key): writes a version 2 envelope whose data
   * key is also wrapped for it, so the owner can read the file back. See `ownerKeyFromSignature`.
   */
  ownerPublicKey?: PublicKeyInput;
  /** Test vectors only: a fixed ephemeral key makes the output deterministic. Never reuse one. */
  ephemeralPrivateKey?: Uint8Array;
}

function malformed(message: string): CryptoError {
  return new CryptoError('envelope_malformed', message);
}

/** The header's length given at least its first 5 bytes (magic and version). */
export function envelopeHeaderLength(bytes: Uint8Array): number {
  if (bytes.length < 5) throw malformed('envelope shorter than its magic and version');
  if (!Buffer.from(bytes.subarray(0, 4)).equals(ENVELOPE_MAGIC))
    throw malformed('bad magic (expected "HEV1")');
  const version = bytes[4];
  if (version === ENVELOPE_VERSION) return ENVELOPE_HEADER_LENGTH;
  if (version === ENVELOPE_VERSION_OWNER) return ENVELOPE_V2_HEADER_LENGTH;
  throw malformed(`unsupported envelope version ${version}`);
}

/**
 * Validates the header (62 bytes in version 1, 130 in version 2; given the envelope or at least its header)
 * and returns its fields. Needs no key: the gateway uses it to refuse an envelope meant for another server.
 */
export function parseEnvelopeHeader(bytes: Uint8Array): EnvelopeHeader {
  if (!(bytes instanceof Uint8Array) || bytes.length < ENVELOPE_HEADER_LENGTH) {
    throw malformed(`envelope shorter than its ${ENVELOPE_HEADER_LENGTH}-byte header`);
  }
  const headerLength = envelopeHeaderLength(bytes);
  if (bytes.length < headerLength) throw malformed(`envelope shorter than its ${headerLength}-byte header`);
  const raw = Buffer.from(bytes.subarray(0, headerLength));
  const version = raw[4];
  const ephemeralPublicKey = raw.subarray(25, 58);
  if (ephemeralPublicKey[0] !== 0x02 && ephemeralPublicKey[0] !== 0x03) {
    throw malformed('ephemeral public key must be compressed');
  }
  try {
    toPublicKeyPoint(ephemeralPublicKey);
  } catch {
    throw malformed('ephemeral public key is not on secp256k1');
  }
  const chunkSize = raw.readUInt32BE(58);
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) throw malformed(`chunk size ${chunkSize} out of range`);
  const header: EnvelopeHeader = {
    version,
    recipient: addressFromBytes(raw.subarray(5, 25)),
    ephemeralPublicKey: Buffer.from(ephemeralPublicKey),
    chunkSize,
    headerLength,
    raw,
    keySalt: version === ENVELOPE_VERSION ? raw : raw.subarray(0, V2_SALT_LENGTH),
  };
  if (version === ENVELOPE_VERSION_OWNER) {
    header.owner = addressFromBytes(raw.subarray(62, 82));
    header.ownerWrappedKey = Buffer.from(raw.subarray(V2_SALT_LENGTH, headerLength));
  }
  return header;
}

/** The recipient (EIP-55 address) an envelope is encrypted to, from its header. */
export function envelopeRecipient(bytes: Uint8Array): Hex {
  return parseEnvelopeHeader(bytes).recipient;
}

/** HKDF-SHA256(ikm = ECDH x-coordinate, salt = header (v1) or its first 82 bytes (v2), info) → 32 bytes. */
function deriveKey(sharedX: Uint8Array, salt: Buffer, info: Buffer = HKDF_INFO): Buffer {
  const okm = hkdf(sha256, sharedX, salt, info, 32);
  const key = Buffer.from(okm);
  okm.fill(0);
  return key;
}

/** The owner slot: AES-256-GCM(kek, nonce = 12 zero bytes, aad = the 82-byte salt, data key) → 48 bytes. */
function wrapKey(kek: Buffer, salt: Buffer, key: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', kek, Buffer.alloc(12));
  cipher.setAAD(salt);
  return Buffer.concat([cipher.update(key), cipher.final(), cipher.getAuthTag()]);
}

function unwrapKey(kek: Buffer, salt: Buffer, wrapped: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.alloc(12));
  decipher.setAAD(salt);
  decipher.setAuthTag(wrapped.subarray(32, WRAPPED_KEY_LENGTH));
  try {
    return Buffer.concat([decipher.update(wrapped.subarray(0, 32)), decipher.final()]);
  } catch {
    throw new CryptoError('ciphertext_tampered', 'the owner slot does not open with this key');
  }
}

/** Reference producer nonce: 8 zero bytes || u32 BE index (unique: every envelope has a fresh key). */
function counterNonce(index: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(index, 8);
  return nonce;
}

function frameHeader(isFinal: boolean, sealedLength: number): Buffer {
  const out = Buffer.allocUnsafe(ENVELOPE_FRAME_HEADER_LENGTH);
  out[0] = isFinal ? FLAG_FINAL : 0;
  out.writeUInt32BE(sealedLength, 1);
  return out;
}

interface EnvelopeSealer {
  header: Buffer;
  chunkSize: number;
  /** Returns [frame header, sealed chunk]; the header bytes must be written first, once. */
  seal(plaintext: Buffer, isFinal: boolean): [Buffer, Buffer];
  wipe(): void;
}

function createSealer(recipientPublicKey: PublicKeyInput, options: EnvelopeEncryptOptions): EnvelopeSealer {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new CryptoError('invalid_argument', `chunk size must be an integer in [1, ${MAX_CHUNK_SIZE}]`);
  }
  const recipient = toPublicKeyPoint(recipientPublicKey);
  const ephPriv = options.ephemeralPrivateKey
    ? Uint8Array.from(toPrivateKeyBytes(options.ephemeralPrivateKey))
    : secp256k1.utils.randomPrivateKey();
  const owner = options.ownerPublicKey === undefined ? undefined : toPublicKeyPoint(options.ownerPublicKey);
  const header = Buffer.alloc(owner ? ENVELOPE_V2_HEADER_LENGTH : ENVELOPE_HEADER_LENGTH);
  ENVELOPE_MAGIC.copy(header, 0);
  header[4] = owner ? ENVELOPE_VERSION_OWNER : ENVELOPE_VERSION;
  Buffer.from(publicKeyToAddress(recipient.toRawBytes(false)).slice(2), 'hex').copy(header, 5);
  header.set(secp256k1.getPublicKey(ephPriv, true), 25);
  header.writeUInt32BE(chunkSize, 58);
  let key: Buffer;
  const shared = secp256k1.getSharedSecret(ephPriv, recipient.toRawBytes(true), true);
  if (owner) {
    Buffer.from(publicKeyToAddress(owner.toRawBytes(false)).slice(2), 'hex').copy(header, 62);
    const salt = header.subarray(0, V2_SALT_LENGTH);
    key = deriveKey(shared.subarray(1), salt, HKDF_INFO_V2);
    const ownerShared = secp256k1.getSharedSecret(ephPriv, owner.toRawBytes(true), true);
    const kek = deriveKey(ownerShared.subarray(1), salt, HKDF_INFO_OWNER);
    ownerShared.fill(0);
    wrapKey(kek, salt, key).copy(header, V2_SALT_LENGTH);
    kek.fill(0);
  } else {
    key = deriveKey(shared.subarray(1), header);
  }
  ephPriv.fill(0);
  shared.fill(0);
  let index = 0;
  return {
    header,
    chunkSize,
    seal(plaintext, isFinal) {
      const sealed = sealChunk(key, header, index, isFinal, plaintext, counterNonce(index));
      index++;
      return [frameHeader(isFinal, sealed.length), sealed];
    },
    wipe() {
      key.fill(0);
    },
  };
}

/** Byte stream in, HEV1 envelope bytes out; holds back at most one chunk of plaintext. */
export function createEnvelopeEncryptStream(
  recipientPublicKey: PublicKeyInput,
  options: EnvelopeEncryptOptions = {},
): Transform {
  const sealer = createSealer(recipientPublicKey, options);
  const queue = new ByteQueue();
  let headerSent = false;
  const emit = (stream: Transform, plaintext: Buffer, isFinal: boolean): void => {
    if (!headerSent) {
      stream.push(sealer.header);
      headerSent = true;
    }
    const [frame, sealed] = sealer.seal(plaintext, isFinal);
    stream.push(frame);
    stream.push(sealed);
  };
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        queue.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
        while (queue.length > sealer.chunkSize) emit(this, queue.take(sealer.chunkSize), false);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        emit(this, queue.take(queue.length), true);
        sealer.wipe();
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    destroy(err: Error | null, callback: (error: Error | null) => void) {
      sealer.wipe();
      callback(err);
    },
  });
}

/** Encrypts to a server's public key: whole buffer → envelope bytes, or a stream → a stream. */
export function encryptEnvelope(
  recipientPublicKey: PublicKeyInput,
  plaintext: Uint8Array,
  options?: EnvelopeEncryptOptions,
): Buffer;
export function encryptEnvelope(
  recipientPublicKey: PublicKeyInput,
  plaintext: AsyncIterable<Uint8Array> | Readable,
  options?: EnvelopeEncryptOptions,
): Readable;
export function encryptEnvelope(
  recipientPublicKey: PublicKeyInput,
  plaintext: Uint8Array | AsyncIterable<Uint8Array> | Readable,
  options: EnvelopeEncryptOptions = {},
): Buffer | Readable {
  if (plaintext instanceof Uint8Array) {
    const sealer = createSealer(recipientPublicKey, options);
    try {
      const input = Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
      const parts: Buffer[] = [sealer.header];
      let offset = 0;
      do {
        const end = Math.min(input.length, offset + sealer.chunkSize);
        parts.push(...sealer.seal(input.subarray(offset, end), end === input.length));
        offset = end;
      } while (offset < input.length);
      return Buffer.concat(parts);
    } finally {
      sealer.wipe();
    }
  }
  const stream = createEnvelopeEncryptStream(recipientPublicKey, options);
  const source = plaintext instanceof Readable ? plaintext : Readable.from(plaintext);
  source.on('error', (err) => stream.destroy(err));
  return source.pipe(stream);
}

type ParseState = 'header' | 'frame' | 'body' | 'done';

/**
 * Walks an envelope's framing; `onHeader` and `onChunk` see each part as soon as it is complete.
 * Used by the decrypt stream and by the key-less structure check.
 */
class EnvelopeParser {
  private readonly queue = new ByteQueue();
  private state: ParseState = 'header';
  private header: EnvelopeHeader | undefined;
  private isFinal = false;
  private sealedLength = 0;
  private index = 0;
  private headerLength = 0;
  private headerStart: Buffer | undefined;

  constructor(
    private readonly onHeader: (header: EnvelopeHeader) => void,
    private readonly onChunk: (
      index: number,
      isFinal: boolean,
      sealed: Buffer,
      header: EnvelopeHeader,
    ) => void,
  ) {}

  write(bytes: Buffer): void {
    if (this.state === 'done') {
      if (bytes.length > 0) throw new CryptoError('ciphertext_trailing_data', 'data after the final chunk');
      return;
    }
    this.queue.push(bytes);
    for (;;) {
      if (this.state === 'header') {
        if (this.queue.length < ENVELOPE_HEADER_LENGTH) return;
        if (this.headerLength === 0) {
          const start = this.queue.take(ENVELOPE_HEADER_LENGTH);
          this.headerLength = envelopeHeaderLength(start);
          this.headerStart = start;
        }
        if (this.queue.length < this.headerLength - ENVELOPE_HEADER_LENGTH) return;
        const rest = this.queue.take(this.headerLength - ENVELOPE_HEADER_LENGTH);
        this.header = parseEnvelopeHeader(Buffer.concat([this.headerStart as Buffer, rest]));
        this.onHeader(this.header);
        this.state = 'frame';
      } else if (this.state === 'frame') {
        if (this.queue.length < ENVELOPE_FRAME_HEADER_LENGTH) return;
        const frame = this.queue.take(ENVELOPE_FRAME_HEADER_LENGTH);
        const flags = frame[0];
        if (flags !== 0 && flags !== FLAG_FINAL)
          throw malformed(`unknown chunk flags 0x${flags.toString(16)}`);
        this.isFinal = flags === FLAG_FINAL;
        this.sealedLength = frame.readUInt32BE(1);
        const full = (this.header as EnvelopeHeader).chunkSize + CHUNK_OVERHEAD;
        if (
          this.isFinal
            ? this.sealedLength < CHUNK_OVERHEAD || this.sealedLength > full
            : this.sealedLength !== full
        ) {
          throw malformed(`chunk ${this.index} has an invalid length ${this.sealedLength}`);
        }
        this.state = 'body';
      } else if (this.state === 'body') {
        if (this.queue.length < this.sealedLength) return;
        const sealed = this.queue.take(this.sealedLength);
        this.onChunk(this.index++, this.isFinal, sealed, this.header as EnvelopeHeader);
        this.state = this.isFinal ? 'done' : 'frame';
      } else {
        if (this.queue.length > 0)
          throw new CryptoError('ciphertext_trailing_data', 'data after the final chunk');
        return;
      }
    }
  }

  end(): void {
    if (this.state === 'header')
      throw malformed(`envelope shorter than its ${ENVELOPE_HEADER_LENGTH}-byte header`);
    if (this.state !== 'done')
      throw new CryptoError('ciphertext_truncated', 'envelope ends before its final chunk');
  }
}

/** Checks the recipient and derives the envelope key (ECDH + HKDF). */
function keyForRecipient(priv: Uint8Array, ownAddress: Hex, header: EnvelopeHeader): Buffer {
  if (header.recipient !== ownAddress) {
    throw new CryptoError(
      'envelope_wrong_recipient',
      `envelope is for ${header.recipient}, not ${ownAddress}`,
    );
  }
  let shared: Uint8Array;
  try {
    shared = secp256k1.getSharedSecret(priv, header.ephemeralPublicKey, true);
  } catch {
    throw malformed('ephemeral public key is not on secp256k1');
  }
  const key =
    header.version === ENVELOPE_VERSION
      ? deriveKey(shared.subarray(1), header.raw)
      : deriveKey(shared.subarray(1), header.keySalt, HKDF_INFO_V2);
  shared.fill(0);
  return key;
}

/** Version 2: the data key through the owner slot (the owner key's ECDH with the ephemeral key, then unwrap). */
function keyForOwner(priv: Uint8Array, ownAddress: Hex, header: EnvelopeHeader): Buffer {
  if (header.owner === undefined || header.ownerWrappedKey === undefined) {
    throw new CryptoError('envelope_wrong_recipient', 'this envelope has no owner slot (version 1)');
  }
  if (header.owner !== ownAddress) {
    throw new CryptoError(
      'envelope_wrong_recipient',
      `the owner slot is for ${header.owner}, not ${ownAddress}`,
    );
  }
  const shared = secp256k1.getSharedSecret(priv, header.ephemeralPublicKey, true);
  const kek = deriveKey(shared.subarray(1), header.keySalt, HKDF_INFO_OWNER);
  shared.fill(0);
  try {
    return unwrapKey(kek, header.keySalt, header.ownerWrappedKey);
  } finally {
    kek.fill(0);
  }
}

/** The message an owner's wallet signs (EIP-191) to derive their owner key for one server. */
export function ownerKeyMessage(serverAddress: string): string {
  return `Hearth owner key v1 for ${addressFromBytes(Buffer.from(serverAddress.slice(2), 'hex'))}`;
}

/**
 * The owner key (secp256k1 private key, 32 bytes) from the wallet's signature of `ownerKeyMessage`:
 * HKDF-SHA256(ikm = the 65-byte signature, salt = "hearth owner key v1", info = the server's 20-byte address,
 * L = 48), reduced to a scalar in [1, n-1] (FIPS 186-5 A.2.1, as @noble's mapHashToField). Deterministic
 * because wallets sign with RFC 6979 nonces.
 */
export function ownerKeyFromSignature(signature: string | Uint8Array, serverAddress: string): Buffer {
  const sig = typeof signature === 'string' ? Buffer.from(signature.replace(/^0x/, ''), 'hex') : signature;
  if (sig.length !== 65) throw new CryptoError('invalid_argument', 'the signature must be 65 bytes');
  const okm = hkdf(sha256, sig, OWNER_KEY_SALT, Buffer.from(serverAddress.replace(/^0x/, ''), 'hex'), 48);
  const key = Buffer.from(mapHashToField(okm, secp256k1.CURVE.n));
  okm.fill(0);
  return key;
}

/**
 * Envelope bytes in, plaintext out. Refuses an envelope addressed to another key before any
 * crypto ('envelope_wrong_recipient'); fails on tampering, truncation and trailing data.
 * Plaintext of chunks before a failure has been emitted already: discard output on error.
 */
export function createEnvelopeDecryptStream(
  recipientPrivateKey: PrivateKeyInput,
  options: { asOwner?: boolean } = {},
): Transform {
  const priv = Buffer.from(toPrivateKeyBytes(recipientPrivateKey));
  const ownAddress = publicKeyToAddress(secp256k1.getPublicKey(priv, true));
  let key: Buffer | undefined;
  const wipe = (): void => {
    priv.fill(0);
    key?.fill(0);
  };
  const out: Transform = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        parser.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
        callback();
      } catch (err) {
        wipe();
        callback(err as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        parser.end();
        wipe();
        callback();
      } catch (err) {
        wipe();
        callback(err as Error);
      }
    },
    destroy(err: Error | null, callback: (error: Error | null) => void) {
      wipe();
      callback(err);
    },
  });
  const parser = new EnvelopeParser(
    (header) => {
      key = options.asOwner
        ? keyForOwner(priv, ownAddress, header)
        : keyForRecipient(priv, ownAddress, header);
      priv.fill(0); // one ECDH per envelope: the private key copy is no longer needed
    },
    (index, isFinal, sealed, header) => {
      out.push(openChunk(key as Buffer, header.raw, index, isFinal, sealed));
    },
  );
  return out;
}

/** Decrypts a whole envelope held in memory; `asOwner` opens a version 2 envelope through its owner slot. */
export function decryptEnvelope(
  recipientPrivateKey: PrivateKeyInput,
  envelope: Uint8Array,
  options: { asOwner?: boolean } = {},
): Buffer {
  const parts: Buffer[] = [];
  let key: Buffer | undefined;
  const priv = Buffer.from(toPrivateKeyBytes(recipientPrivateKey));
  const ownAddress = publicKeyToAddress(secp256k1.getPublicKey(priv, true));
  try {
    const parser = new EnvelopeParser(
      (header) => {
        key = options.asOwner
          ? keyForOwner(priv, ownAddress, header)
          : keyForRecipient(priv, ownAddress, header);
      },
      (index, isFinal, sealed, header) =>
        parts.push(openChunk(key as Buffer, header.raw, index, isFinal, sealed)),
    );
    parser.write(Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength));
    parser.end();
    return Buffer.concat(parts);
  } catch (err) {
    for (const p of parts) p.fill(0);
    throw err;
  } finally {
    priv.fill(0);
    key?.fill(0);
  }
}

/**
 * The envelope's own AES key (ECDH + HKDF from the recipient's private key and the envelope's header), for a
 * holder of the private key to hand a less trusted process that then opens the envelope with
 * `decryptEnvelopeWithKey` and never sees the private key. `headerBytes`: at least the header (62 bytes in version 1,
 * 130 in version 2: `envelopeHeaderLength` of the first 5 says which).
 */
export function envelopeKey(recipientPrivateKey: PrivateKeyInput, headerBytes: Uint8Array): Buffer {
  const priv = Buffer.from(toPrivateKeyBytes(recipientPrivateKey));
  try {
    const ownAddress = publicKeyToAddress(secp256k1.getPublicKey(priv, true));
    return keyForRecipient(priv, ownAddress, parseEnvelopeHeader(headerBytes));
  } finally {
    priv.fill(0);
  }
}

/** Decrypts a whole envelope held in memory with its key from `envelopeKey`. */
export function decryptEnvelopeWithKey(key: Uint8Array, envelope: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  const aesKey = Buffer.from(key);
  try {
    const parser = new EnvelopeParser(
      () => undefined,
      (index, isFinal, sealed, header) => parts.push(openChunk(aesKey, header.raw, index, isFinal, sealed)),
    );
    parser.write(Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength));
    parser.end();
    return Buffer.concat(parts);
  } catch (err) {
    for (const p of parts) p.fill(0);
    throw err;
  } finally {
    aesKey.fill(0);
  }
}

/**
 * Key-less structure check: passes envelope bytes through unchanged and fails on a bad header,
 * bad framing, truncation or trailing data. `expectedRecipient` (any case) is compared to the
 * header first, so an upload for another server's key is refused before it is stored.
 */
export function createEnvelopeValidator(expectedRecipient?: string): Transform {
  if (expectedRecipient !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(expectedRecipient)) {
    throw new CryptoError('invalid_argument', 'expected recipient must be a 0x-prefixed 20-byte address');
  }
  const expected =
    expectedRecipient === undefined
      ? undefined
      : addressFromBytes(Buffer.from(expectedRecipient.slice(2), 'hex'));
  let header: EnvelopeHeader | undefined;
  let chunks = 0;
  const parser = new EnvelopeParser(
    (h) => {
      if (expected !== undefined && h.recipient !== expected) {
        throw new CryptoError('envelope_wrong_recipient', `envelope is for ${h.recipient}`);
      }
      header = h;
    },
    () => {
      chunks++;
    },
  );
  const t = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        parser.write(chunk);
        callback(null, chunk);
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        parser.end();
        t.emit('envelope', { header, chunks });
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });
  return t;
}
