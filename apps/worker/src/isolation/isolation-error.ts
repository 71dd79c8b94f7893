/**
 * Failure codes of the isolated job runner. Pool-level codes describe what happened to the child or the
 * job's slot; `task_failed` carries the task's own code in `taskCode` (e.g. `denied`).
 */
export const ISOLATION_ERROR_CODES = [
  'job_timeout',
  'child_crashed',
  'child_start_failed',
  'job_aborted',
  'pool_closed',
  'unknown_task',
  'invalid_input',
  'task_failed',
  // The sandbox's limits (RLIMIT_AS, RLIMIT_CPU): the job asked for more than it may have; a retry would too.
  'memory_exceeded',
  'cpu_exceeded',
] as const;
export type IsolationErrorCode = (typeof ISOLATION_ERROR_CODES)[number];

// Codes where running the same job again may succeed (the failure was the process, not the job).
const RETRYABLE: ReadonlySet<IsolationErrorCode> = new Set([
  'child_crashed',
  'child_start_failed',
  'pool_closed',
]);

export interface IsolationErrorDetails {
  /** The task's own error code when `code` is `task_failed`. */
  taskCode?: string;
  pid?: number;
  exitCode?: number | null;
  signal?: NodeJS.Signals | null;
}

/** Never carries job input or output: messages are fixed strings or the task's own (data-free) message. */
export class IsolationError extends Error {
  readonly code: IsolationErrorCode;
  readonly taskCode?: string;
  readonly pid?: number;
  readonly exitCode?: number | null;
  readonly signal?: NodeJS.Signals | null;

  constructor(code: IsolationErrorCode, message: string, details: IsolationErrorDetails = {}) {
    super(message);
    this.name = 'IsolationError';
    this.code = code;
    this.taskCode = details.taskCode;
    this.pid = details.pid;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
  }

  /** True when the failure came from the process rather than the job, so a retry may succeed. */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

export function isIsolationError(err: unknown, code?: IsolationErrorCode): err is IsolationError {
  return err instanceof IsolationError && (code === undefined || err.code === code);
}
