/** IPC messages between the pool (parent) and a child. Sent with `serialization: 'advanced'`. */

export interface RunMessage {
  type: 'run';
  id: number;
  task: string;
  input: unknown;
}
export interface ExitMessage {
  type: 'exit';
}
export type ParentMessage = RunMessage | ExitMessage;

export interface ReadyMessage {
  type: 'ready';
  pid: number;
}
export interface DoneMessage {
  type: 'done';
  id: number;
  output: unknown;
  rssBytes: number;
  /** The job left timers, sockets or other handles behind: the child must not take another job. */
  leaked: boolean;
  /** CPU time the child has used in its life (user + system). */
  cpuMs?: number;
}
export interface ErrorMessage {
  type: 'error';
  id: number;
  code: string;
  message: string;
  rssBytes: number;
  leaked: boolean;
  cpuMs?: number;
}
export type ChildMessage = ReadyMessage | DoneMessage | ErrorMessage;

/** Child error codes that are not a task's own code. */
export const CHILD_CODES = {
  unknownTask: 'unknown_task',
  taskError: 'task_error',
  childBusy: 'child_busy',
  outputNotSerializable: 'output_not_serializable',
  /** An allocation failed (RLIMIT_AS): the child may be in a broken state and is recycled. */
  memoryExceeded: 'memory_exceeded',
} as const;

/** argv flags the pool passes to the child (argv, not env: the env is the tenant-facing surface). */
export const CHILD_FLAGS = { allowTestTasks: '--allow-test-tasks', oneShot: '--one-shot' } as const;

/** The worker's pid as its children are told it: a child whose parent is another (re-parented) exits. */
export const CHILD_PARENT_PID_ENV = 'HEARTH_CHILD_PARENT_PID';

/** Where a namespaced child's private tmpfs is; it empties it after every job (see child-runtime). */
export const SANDBOX_TMP_ENV = 'HEARTH_SANDBOX_TMP';

/** Read-only paths bound inside that tmpfs (code or a model under the host's /tmp), JSON: never emptied. */
export const SANDBOX_TMP_KEEP_ENV = 'HEARTH_SANDBOX_TMP_KEEP';

export function isChildMessage(value: unknown): value is ChildMessage {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'ready' || type === 'done' || type === 'error';
}

export function isParentMessage(value: unknown): value is ParentMessage {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'run' || type === 'exit';
}
