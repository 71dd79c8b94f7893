import { Global, Inject, Module, type OnModuleInit } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { createKeyManager, type KeyManager, loadMasterKey } from '@hearth/kms';
import { ReadinessRegistry } from '../infra/readiness.registry';

/** Injection token of the gateway's KeyManager (`@Inject(KEY_MANAGER) keys: KeyManager`). */
export const KEY_MANAGER = Symbol('KEY_MANAGER');

/** Builds the key manager the configuration names: the embedded local one by default, or AWS KMS. */
export async function keyManagerFromConfig(config: HearthConfig): Promise<KeyManager> {
  if (config.KMS_PROVIDER === 'aws') {
    return createKeyManager({ provider: 'aws', region: config.AWS_REGION, endpoint: config.KMS_ENDPOINT });
  }
  const masterKey = await loadMasterKey({
    envValue: config.HEARTH_MASTER_KEY,
    filePath: config.masterKeyFile,
    // A laptop gets a generated key file; production must be given one.
    createIfMissing: config.NODE_ENV !== 'production',
  });
  try {
    return createKeyManager({ provider: 'local', keystoreDir: config.keystoreDir, masterKey });
  } finally {
    masterKey.fill(0); // the key manager keeps its own copy
  }
}

/** Provides KEY_MANAGER app-wide and reports it in /health/ready as `kms`. */
@Global()
@Module({
  providers: [
    {
      provide: KEY_MANAGER,
      inject: [HEARTH_CONFIG],
      useFactory: (config: HearthConfig) => keyManagerFromConfig(config),
    },
  ],
  exports: [KEY_MANAGER],
})
export class KeysModule implements OnModuleInit {
  constructor(
    @Inject(KEY_MANAGER) private readonly keys: KeyManager,
    private readonly readiness: ReadinessRegistry,
  ) {}

  onModuleInit(): void {
    this.readiness.register('kms', async () => {
      await this.keys.health();
      return { provider: this.keys.provider };
    });
  }
}
