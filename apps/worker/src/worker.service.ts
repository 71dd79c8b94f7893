import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import {
  assertHandlersCover,
  isFinalFailure,
  JobName,
  type OperationJob,
  OperationQueue,
  type RunOperationPayload,
} from '@hearth/queue';
import type { Job } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { JOB_HANDLERS, type JobHandler } from './jobs/job-handler';
import { RunOperationHandler } from './jobs/run-operation.handler';

/** Consumes the operations queue and dispatches each job to its handler, with a logger carrying ids. */
@Injectable()
export class WorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker?: ReturnType<OperationQueue['consume']>;
  private readonly handlers: Map<string, JobHandler>;

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    @Inject(JOB_HANDLERS) handlers: JobHandler[],
    private readonly logger: PinoLogger,
    private readonly runOperation: RunOperationHandler,
    private readonly queue: OperationQueue,
  ) {
    this.logger.setContext('worker');
    assertHandlersCover(handlers.map((h) => h.name));
    this.handlers = new Map(handlers.map((h) => [h.name, h]));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.schedule();
    // A Redis that restarted without persistence forgot the schedulers: register them again once it is back.
    await this.queue.onReconnect(() => {
      this.schedule().catch((err: unknown) =>
        this.logger.warn({ err: String(err) }, 'could not register the job schedulers again'),
      );
    });
    this.worker = this.queue.consume((job, token) => this.dispatch(job, token), {
      concurrency: this.config.WORKER_CONCURRENCY,
      lockMs: this.config.JOB_LOCK_MS,
      closeTimeoutMs: this.closeTimeoutMs(),
    });
    this.worker.on('error', (err) => this.logger.error({ err: err.message }, 'queue error'));
    // A job BullMQ gives up on (attempts used up, or stalled too often) must still end its operation: nothing
    // may stay "running" forever.
    // The give-up retries until it commits; past its tries the reconciler ends the operation.
    this.worker.on('failed', (job, err) => {
      if (!job || job.name !== String(JobName.RunOperation)) return;
      if (!isFinalFailure(job)) return;
      this.runOperation
        .giveUp(job as Job<RunOperationPayload>, err)
        .catch((failure: unknown) =>
          this.logger.error(
            { err: String(failure), jobId: job.id },
            'could not end a failed operation; the reconciler will',
          ),
        );
    });
    await this.worker.waitUntilReady();
    this.logger.info({ concurrency: this.config.WORKER_CONCURRENCY }, 'worker consuming');
  }

  /** The purge and the reconciler schedulers (upserts: as often as asked, one scheduler each). */
  private async schedule(): Promise<void> {
    await this.queue.schedulePurge();
    await this.queue.scheduleReconcile(this.config.RECONCILE_EVERY_MS);
  }

  isRunning(): boolean {
    return this.worker?.isRunning() ?? false;
  }

  private async dispatch(job: OperationJob, token?: string): Promise<unknown> {
    const handler = this.handlers.get(job.name);
    if (!handler) throw new Error(`no handler for job ${job.name}`);
    const data: { serverId?: string } = job.data;
    const started = Date.now();
    const log = this.logger.logger.child({ jobId: job.id, job: job.name, tenantId: data.serverId });
    try {
      const result = await handler.handle(job, token);
      log.info({ ms: Date.now() - started }, 'job done');
      return result;
    } catch (err) {
      log.warn(
        { ms: Date.now() - started, err: err instanceof Error ? err.message : String(err) },
        'job failed',
      );
      throw err;
    }
  }

  /** Running jobs may take JOB_TIMEOUT_MS; a close waiting longer is stuck (e.g. after a Redis restart). */
  private closeTimeoutMs(): number {
    return this.config.JOB_TIMEOUT_MS + 5000;
  }

  /** SIGTERM: stop taking jobs and let the running ones finish (for at most JOB_TIMEOUT_MS + 5 s). */
  async onApplicationShutdown(): Promise<void> {
    if (this.worker) await this.queue.stop(this.worker);
  }
}
