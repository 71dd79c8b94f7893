import { Global, Inject, Module, type OnModuleInit } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { type KeyManager, keyManagerFromConfig } from '@hearth/kms';
import { ReadinessRegistry } from '../infra/readiness.registry';

/** Injection token of the gateway's KeyManager (`@Inject(KEY_MANAGER) keys: KeyManager`). */
export const KEY_MANAGER = Symbol('KEY_MANAGER');

/** Provides KEY_MANAGER app-wide and reports it in /health/ready as `keyManager`. */
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
    this.readiness.register('keyManager', async () => {
      await this.keys.health();
      return { provider: this.keys.provider };
    });
  }
}
