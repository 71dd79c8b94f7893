export { CryptoError, CRYPTO_OPERATION_ERRORS, isCryptoError, type CryptoErrorCode } from './errors';
export {
  ByteQueue,
  CHUNK_OVERHEAD,
  DEFAULT_CHUNK_SIZE,
  KEY_LENGTH,
  MAX_CHUNK_SIZE,
  NONCE_LENGTH,
  TAG_LENGTH,
  chunkAad,
  createDecryptStream,
  createEncryptStream,
  decryptChunks,
  encryptChunks,
  openChunk,
  sealChunk,
  type ChunkContext,
  type EncryptedChunk,
} from './chunks';
export {
  ENVELOPE_CONTENT_TYPE,
  ENVELOPE_HEADER_LENGTH,
  ENVELOPE_MAGIC,
  ENVELOPE_V2_HEADER_LENGTH,
  ENVELOPE_VERSION,
  ENVELOPE_VERSION_OWNER,
  createEnvelopeDecryptStream,
  createEnvelopeEncryptStream,
  createEnvelopeValidator,
  decryptEnvelope,
  decryptEnvelopeWithKey,
  encryptEnvelope,
  envelopeKey,
  envelopeHeaderLength,
  envelopeRecipient,
  ownerKeyFromSignature,
  ownerKeyMessage,
  parseEnvelopeHeader,
  type EnvelopeEncryptOptions,
  type EnvelopeHeader,
} from './envelope';
export {
  generateIdentity,
  identityFromPrivateKey,
  publicKeyToAddress,
  type Hex,
  type PrivateKeyInput,
  type PublicKeyInput,
  type ServerIdentity,
} from './identity';
export { sha256Bytes32, sha256Hex, sha256HexOf, type HashInput } from './hash';
export { openValue, sealValue } from './sealed-value';
export { deriveSubkey } from './derive';
