import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { type WebhookJob, WebhookJobName, WebhookQueue } from '@hearth/queue';
import { PinoLogger } from 'nestjs-pino';
import { DeliverWebhookHandler, DispatchEventsHandler, isDeliveryJob } from './webhook-handlers';

export const webhookQueueProvider: Provider = {
  provide: WebhookQueue,
  inject: [HEARTH_CONFIG],
  useFactory: (config: HearthConfig) =>
    new WebhookQueue({
      redisUrl: config.REDIS_URL,
      prefix: config.QUEUE_PREFIX,
      retry: { attempts: config.WEBHOOK_ATTEMPTS, backoffMs: config.WEBHOOK_BACKOFF_MS },
    }),
};

/**
 * Consumes the webhooks queue (its own concurrency, WEBHOOK_CONCURRENCY, beside the operations'): the
 * dispatcher every WEBHOOK_DISPATCH_EVERY_MS and the deliveries it queues.
 */
@Injectable()
export class WebhookWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private running = false;

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    private readonly queue: WebhookQueue,
    private readonly dispatch: DispatchEventsHandler,
    private readonly deliver: DeliverWebhookHandler,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('webhooks');
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.scheduleDispatch(this.config.WEBHOOK_DISPATCH_EVERY_MS);
    // A Redis that restarted without persistence forgot the scheduler: register it again once it is back.
    await this.queue.onReconnect(() => {
      this.queue
        .scheduleDispatch(this.config.WEBHOOK_DISPATCH_EVERY_MS)
        .catch((err: unknown) =>
          this.logger.warn({ err: String(err) }, 'could not register the webhook dispatcher again'),
        );
    });
    const worker = this.queue.consume((job) => this.handle(job), {
      concurrency: this.config.WEBHOOK_CONCURRENCY,
      lockMs: Math.max(this.config.WEBHOOK_TIMEOUT_MS * 3, 30_000),
      closeTimeoutMs: this.config.WEBHOOK_TIMEOUT_MS + 1000,
    });
    worker.on('error', (err) => this.logger.error({ err: err.message }, 'webhook queue error'));
    await worker.waitUntilReady();
    this.running = true;
  }

  isRunning(): boolean {
    return this.running;
  }

  private async handle(job: WebhookJob): Promise<unknown> {
    if (isDeliveryJob(job)) {
      const log = this.logger.logger.child({ jobId: job.id, tenantId: job.data.serverId });
      try {
        return await this.deliver.handle(job);
      } catch (err) {
        log.info(
          { err: err instanceof Error ? err.message : String(err) },
          'webhook delivery attempt failed',
        );
        throw err;
      }
    }
    if (job.name === String(WebhookJobName.DispatchEvents)) return this.dispatch.handle();
    throw new Error(`no handler for webhook job ${job.name}`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    await this.queue.close();
  }
}
