import {
  EVENT_TYPES,
  type EventEntity,
  paginationQuery,
  type WebhookDeliveryEntity,
  type WebhookEntity,
} from '@hearth/db';
import { z } from 'zod';

export const eventsQuery = paginationQuery.extend({ type: z.enum(EVENT_TYPES).optional() }).strict();
export type EventsQuery = z.infer<typeof eventsQuery>;

export const createWebhookBody = z
  .object({
    url: z.string().min(1).max(2048),
    /** Omitted: every event type, including types added later. */
    events: z.array(z.enum(EVENT_TYPES)).min(1).max(EVENT_TYPES.length).optional(),
  })
  .strict();
export type CreateWebhookBody = z.infer<typeof createWebhookBody>;

export interface EventView {
  id: string;
  type: string;
  createdAt: string;
  data: Record<string, unknown>;
}

export function toEventView(e: EventEntity): EventView {
  return { id: e.id, type: e.type, createdAt: e.createdAt.toISOString(), data: e.data };
}

export interface WebhookView {
  id: string;
  url: string;
  /** null: every event type. */
  events: string[] | null;
  status: 'active' | 'disabled';
  consecutiveFailures: number;
  disabledAt: string | null;
  createdAt: string;
}

export function toWebhookView(w: WebhookEntity): WebhookView {
  return {
    id: w.id,
    url: w.url,
    events: w.events,
    status: w.status,
    consecutiveFailures: w.consecutiveFailures,
    disabledAt: w.disabledAt?.toISOString() ?? null,
    createdAt: w.createdAt.toISOString(),
  };
}

export interface DeliveryView {
  id: string;
  eventId: string;
  attempt: number;
  statusCode: number | null;
  errorCode: string | null;
  durationMs: number;
  createdAt: string;
}

export function toDeliveryView(d: WebhookDeliveryEntity): DeliveryView {
  return {
    id: d.id,
    eventId: d.eventId,
    attempt: d.attempt,
    statusCode: d.statusCode,
    errorCode: d.errorCode,
    durationMs: d.durationMs,
    createdAt: d.createdAt.toISOString(),
  };
}

const nullableString = { type: 'string', nullable: true } as const;

export const EVENT_VIEW_SCHEMA = {
  type: 'object',
  required: ['id', 'type', 'createdAt', 'data'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string', enum: [...EVENT_TYPES] },
    createdAt: { type: 'string', format: 'date-time' },
    data: { type: 'object', additionalProperties: true },
  },
};

export const WEBHOOK_VIEW_SCHEMA = {
  type: 'object',
  required: ['id', 'url', 'events', 'status', 'consecutiveFailures', 'disabledAt', 'createdAt'],
  properties: {
    id: { type: 'string' },
    url: { type: 'string' },
    events: { type: 'array', items: { type: 'string', enum: [...EVENT_TYPES] }, nullable: true },
    status: { type: 'string', enum: ['active', 'disabled'] },
    consecutiveFailures: { type: 'integer' },
    disabledAt: { type: 'string', format: 'date-time', nullable: true },
    createdAt: { type: 'string', format: 'date-time' },
  },
};

export const DELIVERY_VIEW_SCHEMA = {
  type: 'object',
  required: ['id', 'eventId', 'attempt', 'statusCode', 'errorCode', 'durationMs', 'createdAt'],
  properties: {
    id: { type: 'string' },
    eventId: { type: 'string' },
    attempt: { type: 'integer' },
    statusCode: { type: 'integer', nullable: true },
    errorCode: nullableString,
    durationMs: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
  },
};

export function pageSchema(item: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items: item }, nextCursor: nullableString },
  };
}
