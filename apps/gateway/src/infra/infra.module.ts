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
          provide: OPERATIONS_QUEUE_TOKEN,
          useFactory: () =>
            new Queue(OPERATIONS_QUEUE, queueConnection(config.REDIS_URL, config.QUEUE_PREFIX)),
        },
        ReadinessRegistry,
        InfraCloser,
      ],
      exports: [REDIS, OPERATIONS_QUEUE_TOKEN, ReadinessRegistry],
    };
  }
}
