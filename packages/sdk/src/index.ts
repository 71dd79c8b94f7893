/**
 * @hearth/sdk: a typed client for Hearth. `HearthOwner` (SIWE sign-in, servers, files, grants, API keys,
 * access log, usage, collectives) and `HearthApp` (catalog, run, receipts). Runs in Node 20+ and browsers.
 */
export {
  HearthApp,
  type AccessRequestStatus,
  type AppFile,
  type AppGrant,
  type CatalogEntry,
  type ClaimedKey,
  type HearthAppOptions,
  type RequestAccessOptions,
  type RunOptions,
  type WhoAmI,
} from './app';
export { type ByteSource } from './bytes';
export {
  ENVELOPE_CONTENT_TYPE,
  ENVELOPE_DEFAULT_CHUNK_SIZE,
  ENVELOPE_HEADER_LENGTH,
  ENVELOPE_V2_HEADER_LENGTH,
  encryptForServer,
  encryptForServerToBytes,
  getDefaultAead,
  setDefaultAead,
  webCryptoAead,
  type AeadBackend,
  type ChunkSealer,
  type EncryptForServerOptions,
  type EnvelopeRecipient,
} from './envelope';
export {
  EnvelopeReadError,
  decryptAsOwner,
  deriveOwnerKey,
  ownerKeyFromSignature,
  ownerKeyMessage,
  ownerPublicKey,
} from './owner-key';
export {
  HearthProblemError,
  ReceiptVerificationError,
  isHearthProblem,
  retryAfterSeconds,
  type ProblemDocument,
  type ProblemFieldError,
} from './errors';
export {
  HearthOwner,
  type ListOptions,
  type SignInOptions,
  type UploadOptions,
  type UploadProgress,
} from './owner';
export {
  canonicalJson,
  jsonHash,
  verifyReceiptWith,
  type Receipt,
  type ReceiptExpectations,
  type VerifiableOperation,
  type VerifiedReceipt,
} from './receipts';
export { resolveSigner, type HearthSigner, type ResolvedSigner } from './signer';
export { verifyWebhookSignature, WEBHOOK_TOLERANCE_SECONDS } from './webhooks';
export { paginate, Transport, type ClientOptions, type RetryOptions } from './transport';
export type * from './types';
export { TERMINAL_STATUSES } from './types';
export type { paths as HearthPaths } from './generated/openapi';
