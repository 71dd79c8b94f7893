import { type DynamicModule, Module } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { DatabaseModule, OperationRepository } from '@hearth/db';
import { WorkerMetrics } from './metrics/worker-metrics';
import { IsolationPool } from './pipeline/isolation-pool';
import { WorkerQueueCloser, workerQueueProvider } from './worker-queue';
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
        DatabaseModule.forRoot({
          url: config.DATABASE_URL,
          poolSize: config.DATABASE_POOL_SIZE,
          repositories: [OperationRepository],
        }),
      ],
      providers: [
        { provide: HEARTH_CONFIG, useValue: config },
        workerQueueProvider,
        WorkerQueueCloser,
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
