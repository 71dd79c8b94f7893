import type { HearthConfig } from '@hearth/config';
import type { KeyManagerOptions } from './factory';
import { loadMasterKey } from './master-key';

/** The key manager's options as the deployment configures them (the one mapping from config). */
export async function keyManagerOptionsFromConfig(config: HearthConfig): Promise<KeyManagerOptions> {
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
