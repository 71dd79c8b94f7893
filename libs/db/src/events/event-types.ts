/**
 * The owner's event feed: what happened on a server, as ids and codes only (never data, file names or
 * parameters). Each type's body is fixed here, so a call site cannot put anything else in it.
 */
export const EVENT_TYPES = [
  'access_request.filed',
  'grant.added',
  'grant.revoked',
  'grant.expired',
  'operation.succeeded',
  'operation.failed',
  'operation.denied',
  'api_key.created',
  'api_key.rotated',
  'api_key.revoked',
  'member.joined',
  'member.left',
  'webhook.disabled',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** An operation's outcome (also what `grant.expired` carries: the operation that found the grant expired). */
export interface OperationEventData {
  operationId: string;
  operation: string;
  appAddress: string;
  apiKeyId: string | null;
  grantId: string | null;
  /** The operation's error code; null on success. */
  code: string | null;
}

/** The body of each event type. */
export interface EventData {
  'access_request.filed': { requestId: string; appAddress: string };
  'grant.added': { grantId: string; appAddress: string; txHash: string };
  'grant.revoked': { grantId: string; txHash: string };
  'grant.expired': OperationEventData;
  'operation.succeeded': OperationEventData;
  'operation.failed': OperationEventData;
  'operation.denied': OperationEventData;
  'api_key.created': { apiKeyId: string; appAddress: string };
  'api_key.rotated': { apiKeyId: string; appAddress: string };
  'api_key.revoked': { apiKeyId: string };
  'member.joined': { memberId: string; address: string; role: string };
  'member.left': { memberId: string; address: string };
  'webhook.disabled': { webhookId: string; consecutiveFailures: number };
}

/** One event to record: its type and that type's body. */
export type NewEvent = { [T in EventType]: { type: T; data: EventData[T] } }[EventType];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}
