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

/**
 * What a status event carries: ids and status, and on the worker's own end of an operation its ended state as
 * stored (receipt, error, timings; the result still sealed under the tenant key, when small), so that a request
 * waiting for it (`Prefer: wait`) is answered without reading the row back. Never plaintext.
 */
export interface OperationEvent {
  id: string;
  status: OperationEventStatus;
  at: string;
  outcome?: OperationEndState;
}

export interface OperationEndState {
  startedAt: string | null;
  finishedAt: string;
  fileIds: string[];
  errorCode: string | null;
  errorDetail: string | null;
  receipt: Record<string, unknown> | null;
  timings: Record<string, number> | null;
  resultExpiresAt: string | null;
  /** The result as stored (base64), sealed under the tenant key; absent when large or none. */
  sealedResult?: { ciphertext: string; wrappedKey: string };
}

/** Results up to this size travel sealed in the end event; larger ones are read from the row. */
export const MAX_EVENT_RESULT_BYTES = 64 * 1024;
