/*
 * The runtime of an isolated child (forked by ChildPool, never loaded in the worker's own process). Runs one job
 * at a time: `run` → task handler → `done`/`error`, then wipes everything the job registered. Replies carry no
 * stack traces and no input; an unexpected error is reported by its class name only. It knows no task of its
 * own: a child's entry script (child-main.ts here, the worker's pipeline/child.ts) hands it the registry.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { JobScope } from './job-scope';
import {
  CHILD_CODES,
  CHILD_FLAGS,
  CHILD_PARENT_PID_ENV,
  SANDBOX_TMP_ENV,
  SANDBOX_TMP_KEEP_ENV,
  isParentMessage,
  type ChildMessage,
  type RunMessage,
} from './protocol';
import { TaskError, type TaskHandler, type TaskRegistry } from './task';

const MAX_MESSAGE_LENGTH = 500;
// IPC write requests come and go with our own replies; they are not something a job left behind.
// In-flight requests that finish on their own (a file close the job awaited the result of, a pending write).
const IGNORED_RESOURCES = new Set(['WriteWrap', 'ShutdownWrap', 'CloseReq', 'FSReqCallback', 'FSReqPromise']);

export interface ChildTasks {
  /** Tasks by name, as `ChildPool.run(name, input)` asks for them. */
  tasks: TaskRegistry;
  /**
   * Runs once before the child reports ready: heavy modules, models and long-lived connections, loaded off the
   * jobs' latency and before the leak baseline is taken. Skipped by test-task pools.
   */
  warmup?: () => Promise<void>;
}

const oneShot = process.argv.includes(CHILD_FLAGS.oneShot);
const allowTestTasks = process.argv.includes(CHILD_FLAGS.allowTestTasks);
let registry: TaskRegistry = {};
let busy = false;

/** Test-only tasks, loaded on demand so production children never even import them. */
function loadTestTasks(): TaskRegistry {
  // why: a lazy require keeps the test tasks out of production children entirely.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./tasks/fixture-tasks') as typeof import('./tasks/fixture-tasks')).testTasks;
}

function send(message: ChildMessage, callback?: () => void): void {
  // why: process.send exists because this file only runs as a forked child (checked at start).
  process.send!(message, undefined, {}, callback);
}

function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of process.getActiveResourcesInfo()) {
    if (!IGNORED_RESOURCES.has(name)) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

// Taken once the IPC channel is listening; what a fresh child holds between jobs.
let baseline = new Map<string, number>();

/** True when the job left more timers/sockets/handles alive than a fresh child has. */
function leakedResources(): boolean {
  if (tmpDirty) return true;
  for (const [name, count] of resourceCounts()) {
    if (count > (baseline.get(name) ?? 0)) {
      if (process.env.HEARTH_DEBUG_LEAKS)
        process.stderr.write(`leak ${name} ${count} > ${baseline.get(name) ?? 0}\n`);
      return true;
    }
  }
  return false;
}

/** A failed allocation under the sandbox's address-space limit (a Buffer, an ArrayBuffer, a native one). */
function isAllocationFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return (
    code === 'ERR_MEMORY_ALLOCATION_FAILED' ||
    (err instanceof RangeError && /allocation failed|Invalid array buffer length/i.test(err.message))
  );
}

function describeFailure(err: unknown): { code: string; message: string } {
  if (isAllocationFailure(err)) {
    return { code: CHILD_CODES.memoryExceeded, message: 'an allocation failed under the memory limit' };
  }
  if (err instanceof TaskError) {
    return { code: err.code, message: err.message.slice(0, MAX_MESSAGE_LENGTH) };
  }
  // An arbitrary error's message may quote data (JSON.parse does): report its class only.
  const name = err instanceof Error && /^[A-Za-z][A-Za-z0-9]{0,39}$/.test(err.name) ? err.name : 'Error';
  return { code: CHILD_CODES.taskError, message: `task threw ${name}` };
}

async function runJob(msg: RunMessage): Promise<void> {
  const scope = new JobScope();
  let reply: ChildMessage;
  try {
    // Input is ciphertext and ids by contract, but wiping it too costs nothing.
    scope.trackAll(msg.input);
    const handler = Object.hasOwn(registry, msg.task) ? registry[msg.task] : undefined;
    if (!handler) {
      reply = errorReply(msg.id, CHILD_CODES.unknownTask, 'unknown task');
    } else {
      const output = await (handler as TaskHandler)(msg.input, scope);
      // Output buffers are wiped after send: advanced serialization copies them synchronously in send().
      scope.trackAll(output);
      reply = {
        type: 'done',
        id: msg.id,
        output,
        rssBytes: process.memoryUsage.rss(),
        leaked: leakedResources(),
        cpuMs: cpuMs(),
      };
    }
  } catch (err) {
    const { code, message } = describeFailure(err);
    reply = errorReply(msg.id, code, message);
  }
  // Before the reply: a pooled child must be clean before the pool can hand it the next job.
  emptySandboxTmp();
  if (tmpDirty && reply.type !== 'ready') reply.leaked = true;
  try {
    sendReply(reply);
  } catch {
    // why: only a non-serializable output gets here (a function, a symbol...); report it without the value.
    sendReply(errorReply(msg.id, CHILD_CODES.outputNotSerializable, 'task output cannot be serialized'));
  } finally {
    scope.end();
    busy = false;
  }
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return Math.round((user + system) / 1000);
}

/**
 * A sandbox's private /tmp is emptied after every job, so the next job (another tenant's, in a pooled child)
 * finds nothing of this one. Only inside a sandbox: the variable names its own tmpfs, never the host's /tmp.
 */
const sandboxTmp = process.env[SANDBOX_TMP_ENV];
const keptInTmp = parseKept(process.env[SANDBOX_TMP_KEEP_ENV]);
function parseKept(json: string | undefined): string[] {
  if (!json) return [];
  const parsed: unknown = JSON.parse(json);
  return Array.isArray(parsed) ? parsed.filter((p): p is string => typeof p === 'string') : [];
}
/** Empties `dir` but for the read-only binds in it (and the directories that lead to them). */
function emptyDir(dir: string): void {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (keptInTmp.includes(full)) continue;
    if (keptInTmp.some((k) => k.startsWith(`${full}/`))) emptyDir(full);
    else rmSync(full, { recursive: true, force: true });
  }
}
function emptySandboxTmp(): void {
  if (!sandboxTmp) return;
  try {
    emptyDir(sandboxTmp);
  } catch {
    // why: a file the job made undeletable cannot outlive the sandbox: leaked marks the child for recycling.
    tmpDirty = true;
  }
}
let tmpDirty = false;

function errorReply(id: number, code: string, message: string): ChildMessage {
  return {
    type: 'error',
    id,
    code,
    message,
    rssBytes: process.memoryUsage.rss(),
    // After a failed allocation the process may be half-broken: it takes no further job.
    leaked: code === CHILD_CODES.memoryExceeded || leakedResources(),
    cpuMs: cpuMs(),
  };
}

function sendReply(reply: ChildMessage): void {
  // One-shot children exit once the reply is written; the parent also kills them as a backstop.
  send(reply, oneShot ? () => process.exit(0) : undefined);
}

function onMessage(raw: unknown): void {
  if (!isParentMessage(raw)) return;
  if (raw.type === 'exit') {
    process.exit(0);
  }
  if (busy) {
    // The pool never does this; refusing keeps "one job at a time" true even if it did.
    send(errorReply(raw.id, CHILD_CODES.childBusy, 'child is busy'));
    return;
  }
  busy = true;
  void runJob(raw);
}

const PARENT_POLL_MS = 200;

function watchParent(): void {
  const expected = Number(process.env[CHILD_PARENT_PID_ENV]);
  delete process.env[CHILD_PARENT_PID_ENV];
  const parent = Number.isInteger(expected) && expected > 0 ? expected : process.ppid;
  const check = () => {
    if (process.ppid !== parent) process.exit(0);
  };
  check();
  setInterval(check, PARENT_POLL_MS).unref();
}

/** Starts the child: call it once from the entry script ChildPool forks. */
export function runChild({ tasks, warmup }: ChildTasks): void {
  if (!process.send) {
    console.error('an isolated child runs only as a child forked by ChildPool');
    process.exit(2);
  }
  registry = allowTestTasks ? { ...tasks, ...loadTestTasks() } : tasks;
  process.on('message', onMessage);
  // The parent is gone: nobody will read our replies, and an orphan must not linger. The IPC channel's end
  // tells it at once; a change of parent pid (re-parented to init or a subreaper) covers a parent that died
  // before the channel was watched. A child busy in a synchronous step sees neither: the parent-death signal
  // (setpriv, see ChildPool) kills it then.
  process.on('disconnect', () => process.exit(0));
  watchParent();
  // Open stdio handles before the baseline so a task that logs does not look like it left a handle behind.
  void process.stdout.writable;
  void process.stderr.writable;
  // Heavy modules, models and long-lived connections are loaded before the baseline and before "ready": a
  // per-job child pays for them off the job's latency, and a pooled child does not count them as leaks.
  // Test-task pools (unit tests, the bare baseline bench) skip it: they measure the pool, not the pipeline.
  (allowTestTasks || !warmup ? Promise.resolve() : warmup())
    .catch(() => undefined)
    .finally(() => {
      baseline = resourceCounts();
      send({ type: 'ready', pid: process.pid });
    });
}
