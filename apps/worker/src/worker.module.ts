import { type DynamicModule, Module } from '@nestjs/common';
import { type HearthConfig, HearthConfigModule } from '@hearth/config';
import { DatabaseModule, FileRepository, OperationRepository } from '@hearth/db';
import Redis from 'ioredis';
import { WorkerMetrics } from './metrics/worker-metrics';
import { IsolationPool } from './pipeline/isolation-pool';
import { WORKER_REDIS, WorkerRedisCloser } from './worker-redis';
import { LoggerModule } from 'nestjs-pino';
import { createLogger } from '@hearth/logging';
import { JOB_HANDLERS } from './jobs/job-handler';
import { PurgeExpiredResultsHandler } from './jobs/purge-expired-results.handler';
import { RunOperationHandler } from './jobs/run-operation.handler';
import { WorkerHealthServer } from './worker-health.server';
import { WorkerService } from './worker.service';

@Module({})
export class WorkerModule {
  static forRoot(config: HearthConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: { logger: createLogger({ level: config.LOG_LEVEL, name: 'worker' }) },
        }),
        HearthConfigModule.forRoot(config),
        DatabaseModule.forRoot(),
        DatabaseModule.forFeature([OperationRepository, FileRepository]),
      ],
      providers: [
        { provide: WORKER_REDIS, useFactory: () => new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 }) },
        WorkerRedisCloser,
        IsolationPool,
        WorkerMetrics,
        RunOperationHandler,
        PurgeExpiredResultsHandler,
        {
          provide: JOB_HANDLERS,
          useFactory: (run: RunOperationHandler, purge: PurgeExpiredResultsHandler) => [run, purge],
          inject: [RunOperationHandler, PurgeExpiredResultsHandler],
        },
        WorkerService,
        WorkerHealthServer,
      ],
      exports: [WorkerService],
    };
  }
}
