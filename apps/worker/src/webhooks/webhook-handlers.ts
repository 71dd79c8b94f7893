import { Inject, Injectable } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { type EventEntity, EventRepository, WebhookRepository } from '@hearth/db';
import { WebhookDeliveryCode } from '@hearth/errors';
import {
  type DeliverWebhookPayload,
  guardedPost,
  signWebhook,
  type WebhookJob,
  WebhookJobName,
  WebhookQueue,
} from '@hearth/queue';
import type { Job } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { WebhookSecrets } from './webhook-secrets';

/** Undispatched events taken per sweep round; a sweep takes rounds until the outbox is empty (or MAX_ROUNDS). */
const DISPATCH_BATCH = 500;
const MAX_ROUNDS = 20;

/** What a receiver gets: the event as the owner's feed lists it, with its server. */
export function deliveryBody(event: EventEntity): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    createdAt: event.createdAt.toISOString(),
    serverId: event.serverId,
    data: event.data,
  });
}

/**
 * The dispatcher (the outbox's reader): queues one delivery job per (webhook, event) of the undispatched events,
 * then marks them dispatched. A crash between the two queues them again next time, and the (webhook, event)
 * job id collapses the repeat.
 */
@Injectable()
export class DispatchEventsHandler {
  readonly name = WebhookJobName.DispatchEvents;

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    private readonly events: EventRepository,
    private readonly queue: WebhookQueue,
  ) {}

  async handle(): Promise<{ dispatched: number; deliveries: number }> {
    let dispatched = 0;
    let deliveries = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const batch = await this.events.listUndispatched(this.config.QUEUE_PREFIX, DISPATCH_BATCH);
      if (batch.length === 0) break;
      const jobs = batch.flatMap((e) =>
        e.webhookIds.map((webhookId) => ({ serverId: e.serverId, webhookId, eventId: e.id })),
      );
      await this.queue.enqueueDeliveries(jobs);
      dispatched += await this.events.markDispatched(batch.map((e) => e.id));
      deliveries += jobs.length;
      if (batch.length < DISPATCH_BATCH) break;
    }
    return { dispatched, deliveries };
  }
}

/**
 * One delivery attempt of one event to one webhook: signed (`Hearth-Signature`, a fresh timestamp per attempt),
 * logged, retried by BullMQ with backoff when it fails. When the last attempt fails, the webhook counts one more
 * failed event in a row, and is disabled (with a `webhook.disabled` event) at WEBHOOK_MAX_FAILURES.
 */
@Injectable()
export class DeliverWebhookHandler {
  readonly name = WebhookJobName.DeliverWebhook;

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    private readonly webhooks: WebhookRepository,
    private readonly secrets: WebhookSecrets,
    private readonly logger: PinoLogger,
  ) {}

  async handle(job: Job<DeliverWebhookPayload>): Promise<unknown> {
    const { serverId, webhookId, eventId } = job.data;
    const target = await this.webhooks.findDeliveryTarget(serverId, webhookId, eventId);
    // Deleted or disabled meanwhile: nothing to send, and nothing to retry.
    if (!target || target.webhook.status !== 'active') return { skipped: true };
    const attempt = job.attemptsMade + 1;
    const last = attempt >= (job.opts.attempts ?? 1);
    let secret: string;
    try {
      secret = await this.secrets.open(serverId, target);
    } catch (err) {
      await this.webhooks.recordAttempt(serverId, {
        webhookId,
        eventId,
        attempt,
        statusCode: null,
        errorCode: WebhookDeliveryCode.secret_unavailable,
        durationMs: 0,
      });
      if (last) await this.countFailedEvent(serverId, webhookId);
      throw err;
    }
    const body = deliveryBody(target.event);
    const result = await guardedPost(
      target.webhook.url,
      {
        'content-type': 'application/json',
        'user-agent': 'Hearth-Webhooks/1',
        'hearth-webhook-id': webhookId,
        'hearth-event-id': eventId,
        'hearth-signature': signWebhook(secret, body, Date.now() / 1000),
      },
      body,
      { timeoutMs: this.config.WEBHOOK_TIMEOUT_MS, allowLoopback: this.config.WEBHOOK_ALLOW_LOOPBACK },
    );
    await this.webhooks.recordAttempt(serverId, {
      webhookId,
      eventId,
      attempt,
      statusCode: result.statusCode,
      errorCode: result.errorCode,
      durationMs: result.durationMs,
    });
    if (result.ok) return { delivered: true, attempt };
    if (last) await this.countFailedEvent(serverId, webhookId);
    throw new Error(
      `delivery attempt ${attempt} failed: ${result.errorCode ?? 'error'} ${result.statusCode ?? ''}`,
    );
  }

  private async countFailedEvent(serverId: string, webhookId: string): Promise<void> {
    const counted = await this.webhooks.recordFailedEvent(
      serverId,
      webhookId,
      this.config.WEBHOOK_MAX_FAILURES,
    );
    if (counted?.disabled) {
      this.logger.warn(
        { tenantId: serverId, webhookId, consecutiveFailures: counted.consecutiveFailures },
        'webhook disabled after repeated failures',
      );
    }
  }
}

/** Routes a webhooks-queue job to its handler. */
export type WebhookHandler = DispatchEventsHandler | DeliverWebhookHandler;

export function isDeliveryJob(job: WebhookJob): job is Job<DeliverWebhookPayload> {
  return job.name === String(WebhookJobName.DeliverWebhook);
}
