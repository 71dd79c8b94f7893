import type { AwsKeyManagerOptions } from './aws';
import { LocalKeyManager, type LocalKeyManagerOptions } from './local';
import type { KeyManager } from './types';

export type KeyManagerOptions =
  ({ provider: 'local' } & LocalKeyManagerOptions) | ({ provider: 'aws' } & AwsKeyManagerOptions);

export function createKeyManager(options: KeyManagerOptions): KeyManager {
  switch (options.provider) {
    case 'local':
      return new LocalKeyManager(options);
    case 'aws': {
      // why: a lazy require keeps the AWS SDK (tens of ms to load) out of every process on the local key
      // manager, notably each fresh isolated child.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { AwsKeyManager } = require('./aws') as typeof import('./aws');
      return new AwsKeyManager(options);
    }
  }
}
