import { KeyManagerError } from './errors';
import type { EncryptionContext } from './types';

/**
 * Canonical bytes of an encryption context: JSON of the [key, value] pairs sorted by key
 * (UTF-16 code unit order). Unambiguous, so {a:"b,c"} and {a:"b", c:""} never collide.
 */
export function canonicalContext(context: EncryptionContext): Buffer {
  return Buffer.from(JSON.stringify(validateContext(context)), 'utf8');
}

/** Checks a context and returns its entries sorted by key. */
export function validateContext(context: EncryptionContext): Array<[string, string]> {
  if (context === null || typeof context !== 'object' || Array.isArray(context)) {
    throw new KeyManagerError('invalid_argument', 'encryption context must be an object of strings');
  }
  const entries = Object.entries(context);
  if (entries.length === 0)
    throw new KeyManagerError('invalid_argument', 'encryption context must not be empty');
  for (const [k, v] of entries) {
    if (k.length === 0 || typeof v !== 'string') {
      throw new KeyManagerError(
        'invalid_argument',
        `encryption context entry "${k}" must be a non-empty key with a string value`,
      );
    }
  }
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function checkTenantId(tenantId: string): void {
  if (typeof tenantId !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(tenantId)) {
    throw new KeyManagerError('invalid_argument', 'tenantId must be 1-128 characters of [A-Za-z0-9_.:-]');
  }
}
