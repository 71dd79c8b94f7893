/*
 * Entry script of the worker's sandboxes (started by ChildPool, see isolation-pool.ts): hands the generic child
 * runtime the worker's tasks and the pipeline's warm-up. The operation task (engines, NLP model, crypto) is
 * loaded on first use, so a per-job sandbox starts with node and the runtime alone and loads only what its
 * one operation needs; a pooled one loads it all in its warm-up, before it reports ready.
 */
import { CHILD_FLAGS } from '../isolation/protocol';
import { runChild } from '../isolation/child-runtime';
import type { JobScope } from '../isolation/job-scope';
import { noopTask } from '../isolation/tasks/noop.task';
import type { IndexFileTaskInput } from './index-file.task';
import type { SandboxTaskInput } from './operation-task.types';

type OperationModule = typeof import('./operation.task');
type IndexModule = typeof import('./index-file.task');
let operationModule: OperationModule | undefined;
let indexModule: IndexModule | undefined;
function load(): OperationModule {
  // why: a lazy require keeps the engines off a per-job sandbox's start.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  operationModule ??= require('./operation.task') as OperationModule;
  return operationModule;
}
function loadIndexer(): IndexModule {
  // why: as above, the parsers and the vectors load only in a sandbox that indexes.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  indexModule ??= require('./index-file.task') as IndexModule;
  return indexModule;
}

runChild({
  tasks: {
    // A health probe and the isolation benchmarks' baseline.
    noop: noopTask,
    operation: (input: SandboxTaskInput, scope: JobScope) => load().operationTask(input, scope),
    'index-file': (input: IndexFileTaskInput, scope: JobScope) => loadIndexer().indexFileTask(input, scope),
  },
  warmup: process.argv.includes(CHILD_FLAGS.oneShot) ? undefined : () => load().warmupOperationTask(),
});
