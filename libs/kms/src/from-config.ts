import type { HearthConfig } from '@hearth/config';
import { createKeyManager, type KeyManagerOptions } from './factory';
import { loadMasterKey } from './master-key';
import type { KeyManager } from './types';

/** The config fields the key manager is built from. */
export type KeyManagerConfig = Pick<
  HearthConfig,
  | 'KMS_PROVIDER'
  | 'NODE_ENV'
  | 'HEARTH_MASTER_KEY'
  | 'masterKeyFile'
  | 'keystoreDir'
  | 'AWS_REGION'
  | 'KMS_ENDPOINT'
  | 'AWS_ACCESS_KEY_ID'
  | 'AWS_SECRET_ACCESS_KEY'
  | 'AWS_SESSION_TOKEN'
>;

/**
 * The key manager's options as the deployment configures them: the one mapping from config, used where a
 * key manager is built (gateway, tests) and where its options travel (the worker hands them to each child).
 */
export async function keyManagerOptionsFromConfig(config: KeyManagerConfig): Promise<KeyManagerOptions> {
  switch (config.KMS_PROVIDER) {
    case 'local':
      return {
        provider: 'local',
        keystoreDir: config.keystoreDir,
        masterKey: await loadMasterKey({
          envValue: config.HEARTH_MASTER_KEY,
          filePath: config.masterKeyFile,
          // A laptop gets a generated key file; production must be given one (config enforces it).
          createIfMissing: config.NODE_ENV !== 'production',
        }),
      };
    case 'aws':
      return {
        provider: 'aws',
        region: config.AWS_REGION,
        endpoint: config.KMS_ENDPOINT,
        // Static credentials when both halves are configured; else the SDK's default chain (role, profile).
        credentials:
          config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
            ? {
                accessKeyId: config.AWS_ACCESS_KEY_ID,
                secretAccessKey: config.AWS_SECRET_ACCESS_KEY,
                sessionToken: config.AWS_SESSION_TOKEN,
              }
            : undefined,
      };
  }
}

/** The key manager the configuration names: the embedded local one by default, or AWS KMS. */
export async function keyManagerFromConfig(config: KeyManagerConfig): Promise<KeyManager> {
  const options = await keyManagerOptionsFromConfig(config);
  try {
    return createKeyManager(options);
  } finally {
    // The local key manager keeps its own copy of the master key.
    if (options.provider === 'local') options.masterKey.fill(0);
  }
}
