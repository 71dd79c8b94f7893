import { AwsKeyManager, type AwsKeyManagerOptions } from './aws';
import { LocalKeyManager, type LocalKeyManagerOptions } from './local';
import type { KeyManager } from './types';

export type KeyManagerOptions =
  ({ provider: 'local' } & LocalKeyManagerOptions) | ({ provider: 'aws' } & AwsKeyManagerOptions);

export function createKeyManager(options: KeyManagerOptions): KeyManager {
  switch (options.provider) {
    case 'local':
      return new LocalKeyManager(options);
    case 'aws':
      return new AwsKeyManager(options);
  }
}
