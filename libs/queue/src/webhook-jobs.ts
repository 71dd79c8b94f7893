/**
 * Webhook jobs: their own BullMQ queue (`webhooks`), so a slow receiver never holds a worker slot an operation
 * needs, and their retries follow the webhook settings rather than the operations'. Payloads carry ids only.
 */
export enum WebhookJobName {
  /** The dispatcher: queues one delivery per (webhook, event) of the undispatched events. */
  DispatchEvents = 'dispatch-events',
  /** One event to one webhook, retried with exponential backoff. */
  DeliverWebhook = 'deliver-webhook',
}

export type DispatchEventsPayload = Record<string, never>;

export interface DeliverWebhookPayload {
  serverId: string;
  webhookId: string;
  eventId: string;
}

export interface WebhookJobPayloads {
  [WebhookJobName.DispatchEvents]: DispatchEventsPayload;
  [WebhookJobName.DeliverWebhook]: DeliverWebhookPayload;
}

export const WEBHOOKS_QUEUE = 'webhooks';

/** One job id per (webhook, event): BullMQ adds nothing under an id it has, so a dispatch repeated collapses. */
export function deliveryJobId(webhookId: string, eventId: string): string {
  return `${webhookId}-${eventId}`;
}
