import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  ListKeysCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { checkTenantId, validateContext } from './context';
import { KeyManagerError, type KeyManagerErrorCode } from './errors';
import { DATA_KEY_BYTES, type EncryptionContext, type KeyManager, MAX_SECRET_BYTES } from './types';

export interface AwsKeyManagerOptions {
  region: string;
  /** Any KMS-compatible endpoint (LocalStack, a fake in tests); AWS's own when omitted. */
  endpoint?: string;
  /** Static credentials; the SDK's default provider chain (env, profile, IAM role) when omitted. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** When set, each tenant key also gets the alias `alias/<aliasPrefix>/<tenantId>`. */
  aliasPrefix?: string;
  /** SDK attempts per call (default 3). */
  maxAttempts?: number;
  /** Per-request timeout in ms (default 10 000). */
  requestTimeoutMs?: number;
}

/** AWS requires at least 7 days; the key is disabled first, so it is unusable at once. */
export const PENDING_DELETION_DAYS = 7;

function errorName(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'name' in err ? String(err.name) : undefined;
}

function mapError(err: unknown, keyRef: string): KeyManagerError {
  if (err instanceof KeyManagerError) return err;
  const name = errorName(err) ?? 'unknown error';
  const as = (code: KeyManagerErrorCode, message: string): KeyManagerError =>
    new KeyManagerError(code, message, { cause: err });
  switch (name) {
    case 'NotFoundException':
      return as('key_not_found', `no KMS key ${keyRef}`);
    // destroyTenantKey disables the key and schedules its deletion: both states mean "destroyed"
    case 'DisabledException':
    case 'KMSInvalidStateException':
      return as('key_destroyed', `KMS key ${keyRef} is disabled or pending deletion`);
    case 'InvalidCiphertextException':
    case 'IncorrectKeyException':
    case 'InvalidKeyUsageException':
      return as('unwrap_failed', 'cannot unwrap: wrong key, wrong encryption context or altered ciphertext');
    case 'ValidationException':
      return as('invalid_argument', `KMS rejected the request (${name})`);
    default:
      return as('kms_unavailable', `KMS request failed (${name})`);
  }
}

function toBuffer(bytes: Uint8Array | undefined, what: string): Buffer {
  if (!bytes) throw new KeyManagerError('kms_unavailable', `KMS response has no ${what}`);
  const out = Buffer.from(bytes);
  bytes.fill(0); // the SDK's copy of key material
  return out;
}

/**
 * AWS KMS adapter: one customer-managed symmetric key per tenant (tagged TenantId); data keys come
 * from GenerateDataKey and secrets from Encrypt, both bound to the encryption context, which KMS
 * enforces on Decrypt (and which appears in CloudTrail, so it holds ids only).
 */
export class AwsKeyManager implements KeyManager {
  readonly provider = 'aws' as const;
  private readonly client: KMSClient;

  constructor(private readonly options: AwsKeyManagerOptions) {
    if (!options.region) throw new KeyManagerError('kms_unavailable', 'aws key manager needs a region');
    this.client = new KMSClient({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      maxAttempts: options.maxAttempts ?? 3,
      requestHandler: { requestTimeout: options.requestTimeoutMs ?? 10_000, connectionTimeout: 5_000 },
    });
  }

  async createTenantKey(tenantId: string): Promise<{ keyRef: string }> {
    checkTenantId(tenantId);
    let keyRef: string | undefined;
    try {
      const out = await this.client.send(
        new CreateKeyCommand({
          Description: `hearth tenant key for ${tenantId}`,
          KeyUsage: 'ENCRYPT_DECRYPT',
          KeySpec: 'SYMMETRIC_DEFAULT',
          Tags: [
            { TagKey: 'TenantId', TagValue: tenantId },
            { TagKey: 'ManagedBy', TagValue: 'hearth' },
          ],
        }),
      );
      keyRef = out.KeyMetadata?.Arn ?? out.KeyMetadata?.KeyId;
      if (!keyRef) throw new KeyManagerError('kms_unavailable', 'CreateKey returned no key id');
      if (this.options.aliasPrefix) {
        await this.client.send(
          new CreateAliasCommand({
            AliasName: `alias/${this.options.aliasPrefix}/${tenantId}`,
            TargetKeyId: keyRef,
          }),
        );
      }
      return { keyRef };
    } catch (err) {
      // do not leave an orphan key behind a failed alias
      if (keyRef) await this.destroyTenantKey(keyRef).catch(() => undefined);
      throw mapError(err, keyRef ?? tenantId);
    }
  }

  async generateDataKey(
    keyRef: string,
    context: EncryptionContext,
  ): Promise<{ plaintext: Buffer; wrapped: Buffer }> {
    const EncryptionContext = Object.fromEntries(validateContext(context));
    try {
      const out = await this.client.send(
        new GenerateDataKeyCommand({ KeyId: keyRef, KeySpec: 'AES_256', EncryptionContext }),
      );
      const plaintext = toBuffer(out.Plaintext, 'Plaintext');
      if (plaintext.length !== DATA_KEY_BYTES) {
        plaintext.fill(0);
        throw new KeyManagerError('kms_unavailable', 'KMS returned a data key of the wrong size');
      }
      return { plaintext, wrapped: Buffer.from(out.CiphertextBlob ?? new Uint8Array()) };
    } catch (err) {
      throw mapError(err, keyRef);
    }
  }

  async unwrapDataKey(keyRef: string, wrapped: Buffer, context: EncryptionContext): Promise<Buffer> {
    const key = await this.decrypt(keyRef, wrapped, context);
    if (key.length !== DATA_KEY_BYTES) {
      key.fill(0);
      throw new KeyManagerError('unwrap_failed', 'wrapped blob is not a data key');
    }
    return key;
  }

  async encrypt(keyRef: string, plaintext: Buffer, context: EncryptionContext): Promise<Buffer> {
    if (!Buffer.isBuffer(plaintext) || plaintext.length === 0 || plaintext.length > MAX_SECRET_BYTES) {
      throw new KeyManagerError('invalid_argument', `secret must be 1..${MAX_SECRET_BYTES} bytes`);
    }
    const EncryptionContext = Object.fromEntries(validateContext(context));
    try {
      const out = await this.client.send(
        new EncryptCommand({ KeyId: keyRef, Plaintext: plaintext, EncryptionContext }),
      );
      if (!out.CiphertextBlob)
        throw new KeyManagerError('kms_unavailable', 'KMS response has no CiphertextBlob');
      return Buffer.from(out.CiphertextBlob);
    } catch (err) {
      throw mapError(err, keyRef);
    }
  }

  async decrypt(keyRef: string, ciphertext: Buffer, context: EncryptionContext): Promise<Buffer> {
    const EncryptionContext = Object.fromEntries(validateContext(context));
    if (!Buffer.isBuffer(ciphertext) || ciphertext.length === 0) {
      throw new KeyManagerError('unwrap_failed', 'empty ciphertext');
    }
    try {
      // KeyId pins the key: a blob of another tenant's key fails (IncorrectKeyException)
      const out = await this.client.send(
        new DecryptCommand({ KeyId: keyRef, CiphertextBlob: ciphertext, EncryptionContext }),
      );
      return toBuffer(out.Plaintext, 'Plaintext');
    } catch (err) {
      throw mapError(err, keyRef);
    }
  }

  /**
   * Disables the key (every use fails from this moment) and schedules its deletion after the
   * 7-day minimum AWS imposes; in that window it stays disabled and only an operator with
   * kms:CancelKeyDeletion could bring it back. Idempotent.
   */
  async destroyTenantKey(keyRef: string): Promise<void> {
    try {
      await this.client.send(new DisableKeyCommand({ KeyId: keyRef }));
    } catch (err) {
      if (errorName(err) !== 'KMSInvalidStateException') throw mapError(err, keyRef); // pending deletion already
    }
    try {
      await this.client.send(
        new ScheduleKeyDeletionCommand({ KeyId: keyRef, PendingWindowInDays: PENDING_DELETION_DAYS }),
      );
    } catch (err) {
      if (errorName(err) !== 'KMSInvalidStateException') throw mapError(err, keyRef);
    }
  }

  async health(): Promise<void> {
    try {
      await this.client.send(new ListKeysCommand({ Limit: 1 }));
    } catch (err) {
      throw new KeyManagerError('kms_unavailable', `KMS is unreachable (${errorName(err) ?? 'error'})`, {
        cause: err,
      });
    }
  }

  /** Closes the SDK's sockets (for tests and shutdown). */
  close(): void {
    this.client.destroy();
  }
}
