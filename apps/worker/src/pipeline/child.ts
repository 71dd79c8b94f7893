/*
 * Entry script of the worker's isolated children (forked by ChildPool, see isolation-pool.ts): hands the
 * generic child runtime the worker's tasks and the pipeline's warm-up.
 */
import { runChild } from '../isolation/child-runtime';
import { noopTask } from '../isolation/tasks/noop.task';
import { indexFileTask } from './index-file.task';
import { operationTask, warmupOperationTask } from './operation.task';

runChild({
  tasks: {
    // A health probe and the isolation benchmarks' baseline.
    noop: noopTask,
    operation: operationTask,
    'index-file': indexFileTask,
  },
  warmup: warmupOperationTask,
});
