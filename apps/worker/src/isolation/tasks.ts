import type { TaskRegistry } from './task';
import { operationTask, warmupOperationTask } from '../pipeline/operation.task';
import { noopTask } from './tasks/noop.task';

/**
 * Tasks a child can run, by name. Loaded only in the child (never in the worker's own process), once at child
 * start, so a per-job child pays the load before it reports ready.
 *
 * To add a task: import its handler (a `defineTask(...)`) and add one line here, e.g.
 *   import { operationTask } from '../operations/operation.task';
 *   operation: operationTask,
 */
export const tasks: TaskRegistry = {
  noop: noopTask,
  operation: operationTask,
};

/** Test-only tasks, loaded on demand so production children never even import them. */
export function loadTestTasks(): TaskRegistry {
  // why: a lazy require keeps the test tasks out of production children entirely.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./tasks/fixture-tasks') as typeof import('./tasks/fixture-tasks')).testTasks;
}

/** Runs once in every child before it reports ready (see child-main). */
export async function warmup(): Promise<void> {
  await warmupOperationTask();
}
