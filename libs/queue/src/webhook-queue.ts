import { type Job, type JobsOptions, Queue, Worker } from 'bullmq';
import {
  type DeliverWebhookPayload,
  deliveryJobId,
  WebhookJobName,
  type WebhookJobPayloads,
  WEBHOOKS_QUEUE,
} from './webhook-jobs';
import { bullConnection, closeWorker } from './operation-queue';

type AnyWebhookPayload = WebhookJobPayloads[WebhookJobName];
export type WebhookJob = Job<AnyWebhookPayload>;

/** Delivery retries (WEBHOOK_ATTEMPTS, WEBHOOK_BACKOFF_MS): BullMQ's exponential backoff from `backoffMs`. */
export interface WebhookRetryPolicy {
  attempts: number;
  backoffMs: number;
}

export interface WebhookQueueOptions {
  redisUrl: string;
  /** BullMQ key prefix (QUEUE_PREFIX), shared with the operations queue. */
  prefix: string;
  retry: WebhookRetryPolicy;
}

const DISPATCH_SCHEDULER_ID = 'dispatch-events';

/** Completed deliveries are kept a day: a repeated dispatch of the same (webhook, event) within it collapses. */
const DELIVERY_RETENTION = {
  removeOnComplete: { age: 24 * 3600, count: 100_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const satisfies JobsOptions;

/** The webhooks queue: the dispatcher's scheduler, the delivery jobs, and their consumer. */
export class WebhookQueue {
  readonly queue: Queue<AnyWebhookPayload>;
  private readonly connection: ReturnType<typeof bullConnection>;
  private worker?: Worker<AnyWebhookPayload>;
  private readonly running = new Set<Promise<unknown>>();
  private closeTimeoutMs = 0;
  private closing?: Promise<void>;

  constructor(private readonly options: WebhookQueueOptions) {
    this.connection = bullConnection(options.redisUrl, options.prefix);
    this.queue = new Queue<AnyWebhookPayload>(WEBHOOKS_QUEUE, this.connection);
  }

  /** The dispatcher, every `everyMs` (WEBHOOK_DISPATCH_EVERY_MS); one scheduler however many workers upsert it. */
  async scheduleDispatch(everyMs: number): Promise<void> {
    await this.queue.upsertJobScheduler(
      DISPATCH_SCHEDULER_ID,
      { every: everyMs },
      { name: WebhookJobName.DispatchEvents, data: {}, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
  }

  /** Queues one delivery per payload, each under its (webhook, event) job id. */
  async enqueueDeliveries(deliveries: DeliverWebhookPayload[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.queue.addBulk(
      deliveries.map((data) => ({
        name: WebhookJobName.DeliverWebhook,
        data,
        opts: {
          ...DELIVERY_RETENTION,
          jobId: deliveryJobId(data.webhookId, data.eventId),
          attempts: this.options.retry.attempts,
          backoff: { type: 'exponential', delay: this.options.retry.backoffMs },
        },
      })),
    );
  }

  /**
   * Starts consuming; `close()` stops it, giving running jobs up to `closeTimeoutMs` (a delivery cut short is
   * retried when its lock expires; receivers deduplicate on Hearth-Event-Id).
   */
  consume(
    processor: (job: WebhookJob) => Promise<unknown>,
    options: { concurrency: number; lockMs: number; closeTimeoutMs: number },
  ): Worker<AnyWebhookPayload> {
    this.closeTimeoutMs = options.closeTimeoutMs;
    const tracked = (job: WebhookJob) => {
      const run = processor(job);
      this.running.add(run);
      const done = () => this.running.delete(run);
      run.then(done, done);
      return run;
    };
    this.worker = new Worker<AnyWebhookPayload>(WEBHOOKS_QUEUE, tracked, {
      ...this.connection,
      concurrency: options.concurrency,
      lockDuration: options.lockMs,
      stalledInterval: options.lockMs,
    });
    return this.worker;
  }

  /** Calls `listener` each time BullMQ's connection is ready again (a restarted Redis forgot the scheduler). */
  async onReconnect(listener: () => void): Promise<void> {
    const client = await this.queue.client;
    client.on('ready', listener);
  }

  /**
   * Takes no new job, waits (bounded) for the running ones, then closes without BullMQ's own wait, which can
   * hang after Redis restarted under it.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const worker = this.worker;
      if (worker) {
        await worker.pause(true);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([...this.running]),
          new Promise((resolve) => (timer = setTimeout(resolve, this.closeTimeoutMs))),
        ]);
        clearTimeout(timer);
        await closeWorker(worker, this.closeTimeoutMs);
      }
      await this.queue.close();
    })();
    return this.closing;
  }
}
