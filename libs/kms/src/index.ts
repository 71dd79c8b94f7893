export type { EncryptionContext, KeyManager, KeyManagerProvider } from './types';
export { DATA_KEY_BYTES, MAX_SECRET_BYTES } from './types';
export {
  KeyManagerError,
  isKeyManagerError,
  KEY_MANAGER_OPERATION_ERRORS,
  type KeyManagerErrorCode,
} from './errors';
export { canonicalContext } from './context';
export { DataKeyCache } from './data-key-cache';
export { LocalKeyManager, type LocalKeyManagerOptions } from './local';
// Types only: the AWS SDK loads when createKeyManager is asked for the aws provider.
export type { AwsKeyManager, AwsKeyManagerOptions } from './aws';
export { createKeyManager, type KeyManagerOptions } from './factory';
export { keyManagerFromConfig, keyManagerOptionsFromConfig, type KeyManagerConfig } from './from-config';
export {
  loadMasterKey,
  loadMasterKeyWithSource,
  parseMasterKey,
  type LoadMasterKeyOptions,
  type LoadedMasterKey,
} from './master-key';

/** Encryption context of a file's data key, as ENGINEERING.md fixes it. */
export function fileKeyContext(
  serverId: string,
  fileId: string,
): { tenantId: string; serverId: string; fileId: string } {
  return { tenantId: serverId, serverId, fileId };
}
