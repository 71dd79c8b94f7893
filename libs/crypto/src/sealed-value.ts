import { openChunk, sealChunk } from './chunks';

/**
 * A small value (a file name, an operation's parameters) sealed under a 32-byte key as one final chunk:
 * nonce (12) || ciphertext || tag (16). The AAD names the row and the field, so a sealed value copied into
 * another row or column fails to open.
 */
export function sealValue(key: Uint8Array, aad: string, plaintext: Uint8Array): Buffer {
  return sealChunk(key, aad, 0, true, plaintext);
}

/** Opens what sealValue sealed under the same key and AAD; throws CryptoError('ciphertext_tampered') otherwise. */
export function openValue(key: Uint8Array, aad: string, sealed: Uint8Array): Buffer {
  return openChunk(key, aad, 0, true, sealed);
}
