/*
 * The default child entry of ChildPool: the isolation layer's own tasks only (noop, and the test tasks when the
 * pool allows them). The worker's children run pipeline/child.ts, which adds the operation task.
 */
import { runChild } from './child-runtime';
import { noopTask } from './tasks/noop.task';

runChild({ tasks: { noop: noopTask } });
