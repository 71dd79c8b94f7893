import type { JobScope } from './job-scope';

/**
 * A task runs inside an isolated child, one job at a time. It gets the job's input (as sent over IPC with
 * advanced serialization: Buffers arrive as Buffers) and the job's scope. Anything sensitive it creates goes
 * through `scope.track()`; it must keep nothing in module state between jobs.
 */
export type TaskHandler<TIn = unknown, TOut = unknown> = (
  input: TIn,
  scope: JobScope,
) => TOut | Promise<TOut>;

/** Types a handler without widening; the registry stores it as `AnyTaskHandler`. */
export function defineTask<TIn, TOut>(handler: TaskHandler<TIn, TOut>): TaskHandler<TIn, TOut> {
  return handler;
}

// `never` input makes every TaskHandler<X, Y> assignable here without `any`.
export type AnyTaskHandler = (input: never, scope: JobScope) => unknown;
export type TaskRegistry = Readonly<Record<string, AnyTaskHandler>>;

/**
 * An expected failure of a task, with a stable snake_case code (e.g. `denied`, `chain_unavailable`).
 * The message crosses to the parent and may be logged: it must never contain data, keys or input.
 * Any other thrown error reaches the parent only as `task_error` with its class name.
 */
export class TaskError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TaskError';
  }
}
