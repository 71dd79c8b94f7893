export type CryptoErrorCode =
  | 'ciphertext_tampered' // a chunk failed authentication (modified bytes, wrong key or wrong context)
  | 'ciphertext_truncated' // the final chunk is missing (or a stream ends mid-chunk)
  | 'ciphertext_reordered' // chunks out of order, duplicated or skipped
  | 'ciphertext_trailing_data' // data after the final chunk
  | 'envelope_malformed' // the envelope's structure is invalid
  | 'envelope_wrong_recipient' // the envelope is addressed to another key
  | 'invalid_key' // a key of the wrong size or not a valid secp256k1 key
  | 'invalid_argument';

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
