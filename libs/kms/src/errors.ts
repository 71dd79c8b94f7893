import type { OperationErrorCode } from '@hearth/errors';

export type KeyManagerErrorCode =
  | 'key_destroyed' // the tenant key was destroyed (or disabled): its data is gone for good
  | 'unwrap_failed' // wrong context, another tenant's key, or altered ciphertext
  | 'key_not_found' // no such keyRef
  | 'kms_unavailable' // the key manager cannot be reached or is misconfigured
  | 'invalid_argument';

/**
 * The `error.code` an operation ends with when the key manager fails with each code: clients see these, not
 * ours (every failure but an outage means the data cannot be opened).
 */
export const KEY_MANAGER_OPERATION_ERRORS = {
  key_destroyed: 'key_destroyed',
  unwrap_failed: 'key_destroyed',
  key_not_found: 'key_destroyed',
  kms_unavailable: 'kms_unavailable',
  invalid_argument: 'key_destroyed',
} as const satisfies Record<KeyManagerErrorCode, OperationErrorCode>;

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
