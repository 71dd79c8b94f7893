import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { getHeapStatistics } from 'node:v8';
import { setTimeout as delay } from 'node:timers/promises';
import { defineTask, TaskError, type TaskRegistry } from '../task';

/*
 * Tasks for tests and benchmarks only. The child registers them only when the pool is created with
 * `allowTestTasks: true`; some of them deliberately break the rules (retain memory, leak a timer, report env
 * names) to prove the pool copes.
 */

// why: module state on purpose, to simulate a leaky task (alloc) and to let tests observe wiping (probe).
const retained: Buffer[] = [];
let probeHeld: ArrayBufferView[] = [];

export const echoTask = defineTask((input: unknown) => input);

export const pidTask = defineTask(() => process.pid);

export const sleepTask = defineTask(async (input: { ms: number }) => {
  const start = Date.now();
  await delay(input.ms);
  return { pid: process.pid, start, end: Date.now() };
});

/** Allocates `mib` MiB: as a touched Buffer (RSS, outside the V8 heap) or, with `heap`, as JS objects. */
export const allocTask = defineTask((input: { mib: number; retain?: boolean; heap?: boolean }) => {
  if (input.heap) {
    const chunks: number[][] = [];
    // ~8 bytes per double element: grow until the heap cap kills the process or the target is reached.
    for (let i = 0; i < input.mib; i++) chunks.push(new Array<number>(131072).fill(i + 0.5));
    return { rssBytes: process.memoryUsage.rss(), chunks: chunks.length };
  }
  const buf = Buffer.alloc(input.mib * 1024 * 1024, 1);
  if (input.retain) retained.push(buf);
  return { rssBytes: process.memoryUsage.rss() };
});

export const envTask = defineTask(() => Object.keys(process.env).sort());

export const introspectTask = defineTask(() => ({
  pid: process.pid,
  execArgv: process.execArgv,
  heapSizeLimitMb: Math.round(getHeapStatistics().heap_size_limit / (1024 * 1024)),
}));

/** Keeps references to the input's `secret` and to a tracked key so a later job can see whether they were wiped. */
export const scopeProbeTask = defineTask((input: { secret: Buffer; fail?: boolean }, scope) => {
  const key = scope.track(Buffer.alloc(32, 0xab));
  probeHeld = [input.secret, key];
  if (input.fail) throw new TaskError('probe_failed', 'probe failed on request');
  return { secretLength: input.secret.length, keyNonZero: key.every((b) => b === 0xab) };
});

export const scopeProbeCheckTask = defineTask(() => {
  const held = probeHeld;
  probeHeld = [];
  return {
    held: held.length,
    allZero: held.every((v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength).every((b) => b === 0)),
  };
});

/** Returns while a timer is still pending: the child must report the leak and be recycled. */
export const leakTimerTask = defineTask(() => {
  setTimeout(() => undefined, 60_000);
  return process.pid;
});

export const failTask = defineTask((input: { code: string; message: string }) => {
  throw new TaskError(input.code, input.message);
});

/** Throws an unexpected error whose message contains input: the parent must never see that message. */
export const throwTask = defineTask((input: { secret: string }) => {
  throw new RangeError(`bad value ${input.secret}`);
});

/*
 * Escape attempts for the sandbox suite: each tries one thing a confined child must not be able to do and says
 * what happened. The test decides what "failed" means; these only report.
 */
export type EscapeAttempt =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'read'; path: string }
  | { kind: 'list'; path: string }
  | { kind: 'write'; path: string }
  | { kind: 'alloc'; mib: number }
  | { kind: 'fork'; count: number }
  | { kind: 'spin' }
  | { kind: 'exec'; path: string; args: string[] }
  | { kind: 'whoami' };

export interface EscapeReport {
  ok: boolean;
  error?: string;
  value?: unknown;
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : err instanceof Error ? err.name : 'Error';
}

function tcpAttempt(host: string, port: number): Promise<EscapeReport> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1500 });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true });
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ ok: false, error: 'ETIMEDOUT' });
    });
    socket.once('error', (err) => resolve({ ok: false, error: errorCode(err) }));
  });
}

/** Starts up to `count` processes that each hang on; reports how many started, then kills them. */
async function forkAttempt(count: number): Promise<EscapeReport> {
  const started: ChildProcess[] = [];
  let error: string | undefined;
  for (let i = 0; i < count && !error; i++) {
    try {
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      const failed = await new Promise<string | undefined>((resolve) => {
        child.once('spawn', () => resolve(undefined));
        child.once('error', (err) => resolve(errorCode(err)));
      });
      if (failed) error = failed;
      else started.push(child);
    } catch (err) {
      error = errorCode(err);
    }
  }
  for (const child of started) child.kill('SIGKILL');
  return { ok: !error && started.length === count, error, value: started.length };
}

export const escapeTask = defineTask(async (input: EscapeAttempt): Promise<EscapeReport> => {
  try {
    switch (input.kind) {
      case 'tcp':
        return await tcpAttempt(input.host, input.port);
      case 'read':
        return { ok: true, value: readFileSync(input.path).length };
      case 'list':
        return { ok: true, value: readdirSync(input.path) };
      case 'write':
        writeFileSync(input.path, 'escaped');
        return { ok: true };
      case 'alloc': {
        // Buffers in 64 MiB pieces: native memory the V8 heap cap does not see. Not filled (a page in each is
        // touched): the address-space limit counts them untouched, and filling 2 GiB takes seconds on a busy host.
        const held: Buffer[] = [];
        for (let i = 0; i < input.mib / 64; i++) {
          const piece = Buffer.allocUnsafeSlow(64 * 1024 * 1024);
          piece[0] = 1;
          held.push(piece);
        }
        return { ok: true, value: held.length * 64 };
      }
      case 'fork':
        return await forkAttempt(input.count);
      case 'spin':
        for (;;) {
          // Burns CPU until a limit ends the process.
        }
      case 'exec': {
        const run = spawnSync(input.path, input.args, { timeout: 3000 });
        if (run.error) return { ok: false, error: errorCode(run.error) };
        return { ok: run.status === 0, value: run.status, error: run.stderr.toString().slice(0, 200) };
      }
      case 'whoami':
        return { ok: true, value: { uid: process.getuid?.(), pid: process.pid, ppid: process.ppid } };
    }
  } catch (err) {
    // Allocation failures are rethrown: the runtime reports them as the sandbox's memory limit.
    if (input.kind === 'alloc') throw err;
    return { ok: false, error: errorCode(err) };
  }
});

export const testTasks: TaskRegistry = {
  escape: escapeTask,
  echo: echoTask,
  pid: pidTask,
  sleep: sleepTask,
  alloc: allocTask,
  env: envTask,
  introspect: introspectTask,
  'scope-probe': scopeProbeTask,
  'scope-probe-check': scopeProbeCheckTask,
  'leak-timer': leakTimerTask,
  fail: failTask,
  throw: throwTask,
};
