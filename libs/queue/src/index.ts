/**
 * Job names and payloads: the one place both the gateway (producer) and the worker (consumer) agree on.
 * Payloads carry ids only — never data, keys or results.
 */
import type Redis from 'ioredis';

export const OPERATIONS_QUEUE = 'operations';

export enum JobName {
  RunOperation = 'run-operation',
  PurgeExpiredResults = 'purge-expired-results',
}

export interface RunOperationPayload {
  operationId: string;
  serverId: string;
}

export type PurgeExpiredResultsPayload = Record<string, never>;

export interface JobPayloads {
  [JobName.RunOperation]: RunOperationPayload;
  [JobName.PurgeExpiredResults]: PurgeExpiredResultsPayload;
}

export const ALL_JOB_NAMES: readonly JobName[] = Object.values(JobName);

/** The worker calls this at start: a job name without a handler is a deploy bug, not a runtime surprise. */
export function assertHandlersCover(handled: Iterable<string>): void {
  const have = new Set(handled);
  const missing = ALL_JOB_NAMES.filter((name) => !have.has(name));
  if (missing.length) throw new Error(`worker has no handler for job(s): ${missing.join(', ')}`);
  const unknown = [...have].filter((name) => !ALL_JOB_NAMES.includes(name as JobName));
  if (unknown.length)
    throw new Error(`worker registers handler(s) for unknown job(s): ${unknown.join(', ')}`);
}

/** BullMQ options shared by producer and consumer. */
export function queueConnection(redisUrl: string, prefix: string) {
  const url = new URL(redisUrl);
  return {
    prefix,
    connection: {
      host: url.hostname,
      port: Number(url.port || 6379),
      username: url.username || undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
      tls: url.protocol === 'rediss:' ? {} : undefined,
      maxRetriesPerRequest: null,
    },
  };
}

/** Redis pub/sub channel carrying an operation's status changes (ids and status only) to SSE listeners. */
export function operationEventsChannel(prefix: string, operationId: string): string {
  return `${prefix}:op-events:${operationId}`;
}

/** Redis counter of a tenant's queued operations; its value at enqueue time is the job's priority (fairness). */
export function tenantBacklogKey(prefix: string, serverId: string): string {
  return `${prefix}:backlog:${serverId}`;
}

/** A counter a crash left off by one stops mattering after a day without new operations of that tenant. */
export const BACKLOG_TTL_SECONDS = 86_400;
const ACQUIRE_BACKLOG =
  "local v = redis.call('INCR', KEYS[1]) redis.call('EXPIRE', KEYS[1], ARGV[1]) return v";
const RELEASE_BACKLOG =
  "local v = redis.call('DECR', KEYS[1]) if v <= 0 then redis.call('DEL', KEYS[1]) end return v";

/** One more queued operation of the tenant; returns the backlog, the new job's priority. */
export async function acquireTenantBacklog(redis: Redis, prefix: string, serverId: string): Promise<number> {
  return Number(
    await redis.eval(ACQUIRE_BACKLOG, 1, tenantBacklogKey(prefix, serverId), BACKLOG_TTL_SECONDS),
  );
}

/** One queued operation fewer (it ran, or will never run); never below zero. */
export async function releaseTenantBacklog(redis: Redis, prefix: string, serverId: string): Promise<void> {
  await redis.eval(RELEASE_BACKLOG, 1, tenantBacklogKey(prefix, serverId));
}

/** Tells every event stream and waiting request of the operation its new status. */
export async function publishOperationEvent(
  redis: Redis,
  prefix: string,
  id: string,
  status: OperationEvent['status'],
): Promise<void> {
  const event: OperationEvent = { id, status, at: new Date().toISOString() };
  await redis.publish(operationEventsChannel(prefix, id), JSON.stringify(event));
}

export interface OperationEvent {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'denied' | 'cancelled';
  at: string;
}
