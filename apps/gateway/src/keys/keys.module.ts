import { Global, Inject, Module, type OnModuleInit } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { type KeyManager, keyManagerFromConfig } from '@hearth/kms';
import { DatabaseModule, MetadataKeyRepository } from '@hearth/db';
import { ReadinessRegistry } from '../infra/readiness.registry';
import { KEY_MANAGER } from './key-manager.token';
import { MetadataSealer } from './metadata-sealer';

export { KEY_MANAGER } from './key-manager.token';

/** Provides KEY_MANAGER and MetadataSealer app-wide and reports the key manager in /health/ready as `keyManager`. */
@Global()
@Module({
  imports: [DatabaseModule.forFeature([MetadataKeyRepository])],
  providers: [
    MetadataSealer,
    {
      provide: KEY_MANAGER,
      inject: [HEARTH_CONFIG],
      useFactory: (config: HearthConfig) => keyManagerFromConfig(config),
    },
  ],
  exports: [KEY_MANAGER, MetadataSealer],
})
export class KeysModule implements OnModuleInit {
  constructor(
    @Inject(KEY_MANAGER) private readonly keys: KeyManager,
    private readonly readiness: ReadinessRegistry,
  ) {}

  onModuleInit(): void {
    this.readiness.register('keyManager', async () => {
      await this.keys.health();
      return { provider: this.keys.provider };
    });
  }
}
