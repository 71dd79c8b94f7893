import { type DynamicModule, Module } from '@nestjs/common';
import { type HearthConfig, HearthConfigModule } from '@hearth/config';
import {
  CollectiveDataRepository,
  DatabaseModule,
  EventRepository,
  FileIndexRepository,
  FileRepository,
  OperationRepository,
  SessionRepository,
  WebhookRepository,
} from '@hearth/db';
import { WorkerMetrics } from './metrics/worker-metrics';
import { OperationBroker } from './pipeline/broker';
import { IsolationPool } from './pipeline/isolation-pool';
import { WorkerQueueCloser, workerQueueProvider } from './worker-queue';
import { LoggerModule } from 'nestjs-pino';
import { createLogger } from '@hearth/logging';
import { JOB_HANDLERS } from './jobs/job-handler';
import { IndexFileHandler } from './jobs/index-file.handler';
import { PurgeExpiredResultsHandler } from './jobs/purge-expired-results.handler';
import { RunOperationHandler } from './jobs/run-operation.handler';
import { ReconcileOperationsHandler } from './reconciler/reconcile-operations.handler';
import { WorkerHealthServer } from './worker-health.server';
import { WorkerService } from './worker.service';
import { DeliverWebhookHandler, DispatchEventsHandler } from './webhooks/webhook-handlers';
import { WebhookSecrets } from './webhooks/webhook-secrets';
import { webhookQueueProvider, WebhookWorkerService } from './webhooks/webhook-worker.service';

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
        DatabaseModule.forFeature([
          OperationRepository,
          FileRepository,
          CollectiveDataRepository,
          EventRepository,
          WebhookRepository,
          FileIndexRepository,
          SessionRepository,
        ]),
      ],
      providers: [
        workerQueueProvider,
        WorkerQueueCloser,
        IsolationPool,
        OperationBroker,
        WorkerMetrics,
        RunOperationHandler,
        PurgeExpiredResultsHandler,
        ReconcileOperationsHandler,
        IndexFileHandler,
        {
          provide: JOB_HANDLERS,
          useFactory: (
            run: RunOperationHandler,
            purge: PurgeExpiredResultsHandler,
            reconcile: ReconcileOperationsHandler,
            index: IndexFileHandler,
          ) => [run, purge, reconcile, index],
          inject: [
            RunOperationHandler,
            PurgeExpiredResultsHandler,
            ReconcileOperationsHandler,
            IndexFileHandler,
          ],
        },
        WorkerService,
        WorkerHealthServer,
        webhookQueueProvider,
        WebhookSecrets,
        DispatchEventsHandler,
        DeliverWebhookHandler,
        WebhookWorkerService,
      ],
      exports: [WorkerService],
    };
  }
}
