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
import { OPERATIONS_QUEUE, queueConnection } from '@hearth/queue';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { ReadinessRegistry } from './readiness.registry';

export const REDIS = Symbol('REDIS');
export const OPERATIONS_QUEUE_TOKEN = Symbol('OPERATIONS_QUEUE');

@Injectable()
class InfraCloser implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(OPERATIONS_QUEUE_TOKEN) private readonly queue: Queue,
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
          provide: OPERATIONS_QUEUE_TOKEN,
          useFactory: () =>
            new Queue(OPERATIONS_QUEUE, queueConnection(config.REDIS_URL, config.QUEUE_PREFIX)),
        },
        ReadinessRegistry,
        InfraCloser,
      ],
      exports: [HEARTH_CONFIG, REDIS, OPERATIONS_QUEUE_TOKEN, ReadinessRegistry],
    };
  }
}
