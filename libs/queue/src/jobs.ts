/**
 * Job names and payloads: the one place both the gateway (producer) and the worker (consumer) agree on.
 * Payloads carry ids only — never data, keys or results.
 */
export enum JobName {
  RunOperation = 'run-operation',
  PurgeExpiredResults = 'purge-expired-results',
  /** The reconciler: Postgres decides, the queue delivers (see docs/design.md). */
  ReconcileOperations = 'reconcile-operations',
  /** Builds a file version's records and search index (sealed), once, after its upload. */
  IndexFile = 'index-file',
}

export interface RunOperationPayload {
  operationId: string;
  serverId: string;
}

export interface IndexFilePayload {
  serverId: string;
  fileId: string;
}

export type PurgeExpiredResultsPayload = Record<string, never>;

export type ReconcileOperationsPayload = Record<string, never>;

export interface JobPayloads {
  [JobName.RunOperation]: RunOperationPayload;
  [JobName.PurgeExpiredResults]: PurgeExpiredResultsPayload;
  [JobName.ReconcileOperations]: ReconcileOperationsPayload;
  [JobName.IndexFile]: IndexFilePayload;
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

export type OperationEventStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'denied' | 'cancelled';

/** What a status event carries: ids and status only. */
export interface OperationEvent {
  id: string;
  status: OperationEventStatus;
  at: string;
}
