import { secp256k1 } from '@noble/curves/secp256k1';
import { keccak_256 } from '@noble/hashes/sha3';
import { getAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { CryptoError } from './errors';

export type Hex = `0x${string}`;
/** A secp256k1 public key: 33 (compressed) or 65 (uncompressed) bytes, or their hex (0x optional). */
export type PublicKeyInput = Uint8Array | string;
/** A secp256k1 private key: 32 bytes or their hex (0x optional). */
export type PrivateKeyInput = Uint8Array | string;

export interface ServerIdentity {
  /** 32-byte private key. Store only wrapped by the tenant key; zero it when done. */
  privateKey: Buffer;
  /** Uncompressed public key, 0x04… (65 bytes as hex). */
  publicKey: Hex;
  /** EIP-55 checksummed address. */
  address: Hex;
}

function hexToBytes(value: string): Uint8Array {
  const hex = value.startsWith('0x') || value.startsWith('0X') ? value.slice(2) : value;
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new CryptoError('invalid_key', 'key is not valid hex');
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** Parses and validates a secp256k1 public key; returns it as a curve point. */
export function toPublicKeyPoint(publicKey: PublicKeyInput): InstanceType<typeof secp256k1.ProjectivePoint> {
  const bytes = typeof publicKey === 'string' ? hexToBytes(publicKey) : publicKey;
  if (bytes.length !== 33 && bytes.length !== 65) {
    throw new CryptoError('invalid_key', 'public key must be 33 or 65 bytes');
  }
  try {
    const point = secp256k1.ProjectivePoint.fromHex(bytes);
    point.assertValidity();
    return point;
  } catch {
    throw new CryptoError('invalid_key', 'not a valid secp256k1 public key');
  }
}

export function toPrivateKeyBytes(privateKey: PrivateKeyInput): Uint8Array {
  const bytes = typeof privateKey === 'string' ? hexToBytes(privateKey) : privateKey;
  if (bytes.length !== 32 || !secp256k1.utils.isValidPrivateKey(bytes)) {
    throw new CryptoError('invalid_key', 'not a valid secp256k1 private key');
  }
  return bytes;
}

/** EIP-55 address of a secp256k1 public key (keccak256 of the 64-byte X||Y, last 20 bytes). */
export function publicKeyToAddress(publicKey: PublicKeyInput): Hex {
  const uncompressed = toPublicKeyPoint(publicKey).toRawBytes(false);
  return addressFromBytes(keccak_256(uncompressed.subarray(1)).subarray(12));
}

export function addressFromBytes(bytes: Uint8Array): Hex {
  return getAddress(`0x${Buffer.from(bytes).toString('hex')}`);
}

/** Public key and address of a private key (the worker derives them after unwrapping). */
export function identityFromPrivateKey(privateKey: PrivateKeyInput): ServerIdentity {
  const bytes = Buffer.from(toPrivateKeyBytes(privateKey));
  const account = privateKeyToAccount(`0x${bytes.toString('hex')}`);
  const publicKey: Hex = `0x${Buffer.from(secp256k1.getPublicKey(bytes, false)).toString('hex')}`;
  return { privateKey: bytes, publicKey, address: account.address };
}

/** A fresh server identity (secp256k1): receipts are signed with it, envelopes encrypted to it. */
export function generateIdentity(): ServerIdentity {
  const priv = secp256k1.utils.randomPrivateKey();
  try {
    return identityFromPrivateKey(priv);
  } finally {
    priv.fill(0);
  }
}
