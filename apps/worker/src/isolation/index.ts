export { ChildPool, DEFAULT_CHILD_SCRIPT } from './child-pool';
export type {
  ChildPoolEvent,
  ChildPoolOptions,
  ChildPoolStats,
  IsolationMode,
  RecycleReason,
  RunOptions,
} from './child-pool';
export { IsolationError, ISOLATION_ERROR_CODES, isIsolationError } from './isolation-error';
export type { IsolationErrorCode, IsolationErrorDetails } from './isolation-error';
export { JobScope } from './job-scope';
// The child runtime itself (runChild) is imported by child entry scripts only, never through this index.
export type { ChildTasks } from './child-runtime';
export { defineTask, TaskError } from './task';
export type { AnyTaskHandler, TaskHandler, TaskRegistry } from './task';
