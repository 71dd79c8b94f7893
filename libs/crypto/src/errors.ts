import type { OperationErrorCode } from '@hearth/errors';

export type CryptoErrorCode =
  | 'ciphertext_tampered' // a chunk failed authentication (modified bytes, wrong key or wrong context)
  | 'ciphertext_truncated' // the final chunk is missing (or a stream ends mid-chunk)
  | 'ciphertext_reordered' // chunks out of order, duplicated or skipped
  | 'ciphertext_trailing_data' // data after the final chunk
  | 'envelope_malformed' // the envelope's structure is invalid
  | 'envelope_wrong_recipient' // the envelope is addressed to another key
  | 'invalid_key' // a key of the wrong size or not a valid secp256k1 key
  | 'invalid_argument';

/**
 * The `error.code` an operation ends with when a file fails to decrypt with each code: clients see these, not
 * ours (the detail names our code).
 */
export const CRYPTO_OPERATION_ERRORS = {
  ciphertext_tampered: 'ciphertext_invalid',
  ciphertext_truncated: 'ciphertext_invalid',
  ciphertext_reordered: 'ciphertext_invalid',
  ciphertext_trailing_data: 'ciphertext_invalid',
  envelope_malformed: 'ciphertext_invalid',
  envelope_wrong_recipient: 'ciphertext_invalid',
  invalid_key: 'ciphertext_invalid',
  invalid_argument: 'ciphertext_invalid',
} as const satisfies Record<CryptoErrorCode, OperationErrorCode>;

/** Typed error of @hearth/crypto: callers map `code`, never parse messages. */
export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  constructor(
    readonly code: CryptoErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isCryptoError(err: unknown, code?: CryptoErrorCode): err is CryptoError {
  return err instanceof CryptoError && (code === undefined || err.code === code);
}
