import {
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { DatabaseModule } from '@hearth/db';
import { OperationQueue } from '@hearth/queue';
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

/** The gateway's external dependencies, one provider each: config, Postgres, Redis, the operations queue. */
@Global()
@Module({})
export class InfraModule {
  static forRoot(config: HearthConfig): DynamicModule {
    return {
      module: InfraModule,
      imports: [DatabaseModule.forRoot({ url: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE })],
      providers: [
        { provide: HEARTH_CONFIG, useValue: config },
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
            new OperationQueue({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, redis }),
        },
        ReadinessRegistry,
        InfraCloser,
      ],
      exports: [HEARTH_CONFIG, REDIS, OperationQueue, ReadinessRegistry],
    };
  }
}
