import { Inject, Injectable } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { OperationRepository, type UnfinishedOperation } from '@hearth/db';
import { OperationErrorCode } from '@hearth/errors';
import { JobName, OperationQueue } from '@hearth/queue';
import { PinoLogger } from 'nestjs-pino';
import type { JobHandler } from '../jobs/job-handler';
import { RunOperationHandler } from '../jobs/run-operation.handler';

/** Operations looked at per run; the oldest first, so a backlog larger than this is worked through run by run. */
export const RECONCILE_BATCH = 500;
const LOCK = 'reconciler';

export interface ReconcileSummary {
  checked: number;
  requeued: number;
  ended: number;
  /** True when another worker's run held the lock: this one did nothing. */
  skipped?: boolean;
}

/**
 * Postgres decides, the queue delivers: every unfinished operation has a live job or gets one. Run every
 * RECONCILE_EVERY_MS by a BullMQ job scheduler; a Redis lock keeps it to one run at a time however many workers
 * take its jobs. An operation (older than RECONCILE_GRACE_MS, so an enqueue under way is left alone) whose job
 * is missing or ended is queued again under the same job id, at most RECONCILE_MAX_REQUEUES times
 * (`lost_in_queue` after); one whose job failed for good is ended (the give-up that did not commit); one past
 * OPERATION_DEADLINE_MS is ended `deadline_exceeded`.
 */
@Injectable()
export class ReconcileOperationsHandler implements JobHandler<JobName.ReconcileOperations> {
  readonly name = JobName.ReconcileOperations;

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    private readonly operations: OperationRepository,
    private readonly queue: OperationQueue,
    private readonly runOperation: RunOperationHandler,
    private readonly logger: PinoLogger,
  ) {}

  async handle(): Promise<ReconcileSummary> {
    let summary: ReconcileSummary = { checked: 0, requeued: 0, ended: 0, skipped: true };
    // A run stops looking at more operations after half the lock's life; a worker killed mid-run frees it when it
    // expires, before the next-but-one run.
    const ttl = Math.max(5000, this.config.RECONCILE_EVERY_MS * 2);
    await this.queue.exclusive(LOCK, ttl, async () => {
      summary = await this.reconcile(Date.now() + ttl / 2);
    });
    return summary;
  }

  /** One pass over the unfinished operations, the oldest first, until `until` (the rest wait for the next run). */
  private async reconcile(until: number): Promise<ReconcileSummary> {
    const now = Date.now();
    const unfinished = await this.operations.listUnfinished(
      this.config.QUEUE_PREFIX,
      new Date(now - this.config.RECONCILE_GRACE_MS),
      RECONCILE_BATCH,
    );
    const summary: ReconcileSummary = { checked: unfinished.length, requeued: 0, ended: 0 };
    for (const op of unfinished) {
      if (Date.now() > until) break;
      const action = await this.reconcileOne(op, now);
      if (action === 'requeued') summary.requeued++;
      if (action === 'ended') summary.ended++;
    }
    if (summary.requeued || summary.ended)
      this.logger.logger.warn({ ...summary }, 'reconciler re-queued or ended operations');
    return summary;
  }

  private async reconcileOne(op: UnfinishedOperation, now: number): Promise<'requeued' | 'ended' | 'none'> {
    if (now - op.createdAt.getTime() > this.config.OPERATION_DEADLINE_MS) {
      const ended = await this.runOperation.end(
        op.serverId,
        op.id,
        OperationErrorCode.deadline_exceeded,
        'the operation was not finished within its deadline',
      );
      // A job still waiting goes too (a running one finds the operation ended and records nothing).
      if (ended) await this.queue.cancel(op.serverId, op.id);
      return ended ? 'ended' : 'none';
    }
    const job = await this.queue.jobLiveness(op.id);
    if (job.state === 'live') return 'none';
    if (job.state === 'failed') {
      const { code, detail } = job.exhausted
        ? {
            code: OperationErrorCode.retry_budget_exhausted,
            detail: 'every attempt failed on an outage; retries are exhausted',
          }
        : {
            code: OperationErrorCode.execution_failed,
            detail: 'the operation could not be run; retrying cannot help',
          };
      return (await this.runOperation.end(op.serverId, op.id, code, detail)) ? 'ended' : 'none';
    }
    // missing or completed: the job is gone while the operation is not finished.
    const verdict = await this.operations.countRequeue(
      op.serverId,
      op.id,
      this.config.RECONCILE_MAX_REQUEUES,
    );
    if (verdict === 'finished') return 'none';
    if (verdict === 'exhausted') {
      const ended = await this.runOperation.end(
        op.serverId,
        op.id,
        OperationErrorCode.lost_in_queue,
        'its queued job was lost more often than it may be queued again',
      );
      return ended ? 'ended' : 'none';
    }
    await this.queue.requeue(op.serverId, op.id);
    this.logger.logger.info(
      { tenantId: op.serverId, operationId: op.id, requeues: op.requeues + 1, job: job.state },
      'reconciler queued an operation again',
    );
    return 'requeued';
  }
}
