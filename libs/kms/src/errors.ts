export type KeyManagerErrorCode =
  | 'key_destroyed' // the tenant key was destroyed (or disabled): its data is gone for good
  | 'unwrap_failed' // wrong context, another tenant's key, or altered ciphertext
  | 'key_not_found' // no such keyRef
  | 'kms_unavailable' // the key manager cannot be reached or is misconfigured
  | 'invalid_argument';

/** Typed error of @hearth/kms. Never carries key material. */
export class KeyManagerError extends Error {
  override readonly name = 'KeyManagerError';
  constructor(
    readonly code: KeyManagerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isKeyManagerError(err: unknown, code?: KeyManagerErrorCode): err is KeyManagerError {
  return err instanceof KeyManagerError && (code === undefined || err.code === code);
}
