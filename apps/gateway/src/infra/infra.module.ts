import {
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type HearthConfig, HearthConfigModule } from '@hearth/config';
import { DatabaseModule } from '@hearth/db';
import { OperationQueue, retryPolicyFromConfig } from '@hearth/queue';
import Redis from 'ioredis';
import { ReadinessRegistry } from './readiness.registry';

export const REDIS = Symbol('REDIS');

@Injectable()
class InfraCloser implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly queue: OperationQueue,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
    this.redis.disconnect();
  }
}

/**
 * The gateway's external dependencies, one provider each: config (HearthConfigModule), Postgres (DatabaseModule:
 * the DataSource; feature modules add their repositories), Redis, the operations queue.
 */
@Global()
@Module({})
export class InfraModule {
  static forRoot(config: HearthConfig): DynamicModule {
    return {
      module: InfraModule,
      imports: [HearthConfigModule.forRoot(config), DatabaseModule.forRoot()],
      providers: [
        {
          provide: REDIS,
          useFactory: () =>
            new Redis(config.REDIS_URL, {
              maxRetriesPerRequest: 2,
              enableOfflineQueue: false,
              lazyConnect: false,
            }),
        },
        {
          provide: OperationQueue,
          inject: [REDIS],
          // Backlog counters and status events go through the shared client; BullMQ opens its own.
          useFactory: (redis: Redis) =>
            new OperationQueue({
              redisUrl: config.REDIS_URL,
              prefix: config.QUEUE_PREFIX,
              redis,
              retry: retryPolicyFromConfig(config),
            }),
        },
        ReadinessRegistry,
        InfraCloser,
      ],
      exports: [REDIS, OperationQueue, ReadinessRegistry],
    };
  }
}
