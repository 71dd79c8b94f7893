/** Encryption context bound to every wrapped key, e.g. {tenantId, serverId, fileId}. Not secret. */
export type EncryptionContext = Readonly<Record<string, string>>;

export type KeyManagerProvider = 'local' | 'aws';

/**
 * Per-tenant key material held outside Postgres. `keyRef` is stored in Postgres and is not
 * secret; whoever holds it still needs the key manager (and the right context) to unwrap.
 */
export interface KeyManager {
  readonly provider: KeyManagerProvider;
  createTenantKey(tenantId: string): Promise<{ keyRef: string }>;
  /** A fresh 32-byte AES key, in the clear (zero it after use) and wrapped under the tenant key. */
  generateDataKey(
    keyRef: string,
    context: EncryptionContext,
  ): Promise<{ plaintext: Buffer; wrapped: Buffer }>;
  unwrapDataKey(keyRef: string, wrapped: Buffer, context: EncryptionContext): Promise<Buffer>;
  /** Small secrets (<= 4 KiB), e.g. a server's identity private key. */
  encrypt(keyRef: string, plaintext: Buffer, context: EncryptionContext): Promise<Buffer>;
  decrypt(keyRef: string, ciphertext: Buffer, context: EncryptionContext): Promise<Buffer>;
  /** Crypto-shredding: afterwards every unwrap and decrypt under this key fails for good. Idempotent. */
  destroyTenantKey(keyRef: string): Promise<void>;
  /** Throws KeyManagerError('kms_unavailable') when the key manager cannot serve requests. */
  health(): Promise<void>;
}

export const MAX_SECRET_BYTES = 4096;
export const DATA_KEY_BYTES = 32;
