/*
 * End-to-end cost of an operation against the bare isolation floor, measured in the same run.
 *
 * (a) The whole pipeline for a trivial operation (`stats` over a 1 KiB text file): POST /v1/operations →
 *     gateway pre-check, record, enqueue → worker claim, load, child (chain check, KMS, decrypt, engine, seal,
 *     sign) → record in one transaction → status event → the app sees the terminal status over SSE.
 *     Gateway and worker run in this process (as the e2e tests run them), on a fresh database and dev chain;
 *     the worker is started once per isolation mode (pooled, per-job).
 * (b) A bare BullMQ round trip (enqueue → completion event) through a pooled ChildPool child doing no work
 *     (`noop`): bench/lib/bullmq-round-trip.ts, as bench/isolation.bench.ts runs it, at the same concurrencies and
 *     worker concurrency.
 *
 * Closed loop: `c` clients each submit one operation and wait for it to end. Both (a) and (b) run the worker
 * at the same concurrency (`--worker-concurrency`, default 8: more than enough for 2 cores), so the ratio
 * (a)/(b) is the price of the pipeline's own work, not of a different pool size.
 *
 * (a') (a) in pooled mode with one request per operation: POST with `Prefer: wait`, answered when it ends.
 * (c) Floors: the CPU this process spends per call on single parts every operation needs (an authenticated HTTP
 *     request, a JSON-RPC call, the receipt's digest and signature, the engine), to show what 40 % of (b) would
 *     leave for the rest.
 *
 * Rounds: every round runs (b) and each variant; (b) goes first in even rounds and last in odd ones, and the
 * variants' order flips with it (pooled and `Prefer: wait` too), so none always follows the baseline. A
 * per-job window lasts --per-job-duration and then stays open until --per-job-min-jobs jobs finished (60 s cap).
 *
 * CPU by part of the stack: the bench process (gateway, worker, clients), Postgres and Redis by /proc/<pid>/stat
 * at the window's edges; the worker's children (which recycle, or exit after each job) are tracked by pid across
 * the window: Δ(this process's reaped-children time) + Σ children alive at the end − Σ children alive at the
 * start, every descendant counted (zombies too), plus a poll of the descendants as a lower bound for a child
 * reaped elsewhere (see cpuWindow). "rest of machine" is the machine's busy CPU (/proc/stat) no part accounts for,
 * so the parts are each ≥ 0 and add up to it.
 *
 *   node dist/bench/pipeline.bench.js [--duration=3000] [--per-job-duration=12000] [--per-job-min-jobs=30]
 *                                     [--rounds=2] [--concurrency=1,4,16,32] [--worker-concurrency=8]
 *                                     [--only=pooled,prefer-wait,bare,per-job,floors]
 *
 * --only=prefer-wait alone runs the pooled worker for `Prefer: wait` only; without `bare` there are no ratios.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigrations } from '@hearth/db';
import { inferenceOptionsFromConfig, runOperation } from '@hearth/inference';
import { createHearthPublicClient } from '@hearth/permissions';
import { receiptHash, receiptTypedData } from '@hearth/receipts';
import { createPublicClient, http } from 'viem';
import { generatePrivateKey, privateKeyToAccount, sign } from 'viem/accounts';
import { Client } from 'pg';
import { ChildPool, type IsolationMode } from '../apps/worker/src/isolation';
import { IsolationPool, WORKER_CHILD_SCRIPT } from '../apps/worker/src/pipeline/isolation-pool';
import { startChainForTests } from '../scripts/lib/chain';
import { checkServices, dropDatabase } from '../scripts/lib/services';
import { type RunningGateway, type RunningWorker, startGateway, startWorker } from '../test/support/apps';
import { type App, grant, json, newApp, newTenant, relayerFor, uploadText } from '../test/support/flow';
import { bearer } from '../test/support/siwe';
import { bullmqRoundTrip } from './lib/bullmq-round-trip';
import { NOTE_1KIB, WORKER_STEPS } from './lib/stack';

// why: a standalone bench script, not app code; it takes the same variables the apps get through libs/config.
const BASE_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DURATION_MS = Number(arg('duration') ?? 3000);
// A per-job child costs about a second to start, so a 3 s window holds too few jobs to mean anything.
const PER_JOB_DURATION_MS = Number(arg('per-job-duration') ?? Math.max(DURATION_MS, 12_000));
// ...and it stays open past that until at least this many jobs finished, up to the cap.
const PER_JOB_MIN_JOBS = Number(arg('per-job-min-jobs') ?? 30);
const PER_JOB_MAX_WINDOW_MS = 60_000;
// Rounds of every variant, alternating which goes first, so that a change in the machine's load shows in all alike.
const ROUNDS = Number(arg('rounds') ?? 2);
const CONCURRENCY = (arg('concurrency') ?? '1,4,16,32').split(',').map(Number);
const WORKER_CONCURRENCY = Number(arg('worker-concurrency') ?? 8);
// Which parts run (e.g. --only=pooled to profile one mode); all three by default.
const ONLY = new Set((arg('only') ?? 'pooled,prefer-wait,bare,per-job,floors').split(','));
const WARMUP_MS = 1000;
// After the window, operations still in flight get this long to end before the next scenario starts.
const DRAIN_MS = 20_000;
const TERMINAL = /"status":"(succeeded|failed|denied|cancelled)"/;
const TIMING_KEYS = [...WORKER_STEPS, 'totalWorkerMs'] as const;

type Variant = 'bare noop (b)' | IsolationMode | typeof PREFER_WAIT;
/** (a) again, in pooled mode, with one request per operation: POST with `Prefer: wait`. */
const PREFER_WAIT = 'pooled, Prefer: wait';

interface Result {
  variant: Variant;
  concurrency: number;
  jobs: number;
  failed: number;
  unfinished: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Busy CPU of the whole machine (all processes: gateway, worker, children, Postgres, Redis, chain) per job. */
  cpuMsPerJob: number;
  /** The same, by part of the stack. */
  cpuByClass: Map<string, number>;
}

/** A variant over all rounds: medians of each figure, and ratios to (b) as medians of the per-round ratios. */
interface MergedResult extends Result {
  rounds: number;
  ratios: { perSecond: number; p50: number; p99: number; cpuMsPerJob: number };
}

function mergeRounds(perRound: Result[][]): MergedResult[] {
  const key = (r: Result) => `${r.variant}@${r.concurrency}`;
  const groups = new Map<string, Array<{ r: Result; base?: Result }>>();
  for (const round of perRound) {
    const base = new Map(round.filter((r) => r.variant === 'bare noop (b)').map((r) => [r.concurrency, r]));
    for (const r of round) {
      const group = groups.get(key(r)) ?? [];
      group.push({ r, base: base.get(r.concurrency) });
      groups.set(key(r), group);
    }
  }
  return [...groups.values()].map((group) => {
    const rs = group.map((g) => g.r);
    const med = (fn: (r: Result) => number) => median(rs.map(fn));
    const ratio = (fn: (r: Result) => number) =>
      median(group.filter((g) => g.base).map((g) => fn(g.r) / fn(g.base as Result)));
    const classes = new Set(rs.flatMap((r) => [...r.cpuByClass.keys()]));
    return {
      variant: rs[0].variant,
      concurrency: rs[0].concurrency,
      rounds: rs.length,
      jobs: rs.reduce((a, r) => a + r.jobs, 0),
      failed: rs.reduce((a, r) => a + r.failed, 0),
      unfinished: rs.reduce((a, r) => a + r.unfinished, 0),
      perSecond: med((r) => r.perSecond),
      p50: med((r) => r.p50),
      p99: med((r) => r.p99),
      cpuMsPerJob: med((r) => r.cpuMsPerJob),
      cpuByClass: new Map([...classes].map((c) => [c, med((r) => r.cpuByClass.get(c) ?? 0)])),
      ratios: {
        perSecond: ratio((r) => r.perSecond),
        p50: ratio((r) => r.p50),
        p99: ratio((r) => r.p99),
        cpuMsPerJob: ratio((r) => r.cpuMsPerJob),
      },
    };
  });
}

interface Sample {
  id: string;
  e2eMs: number;
  postMs: number;
}

interface PipelineRun {
  result: Result;
  samples: Sample[];
  childrenSpawned: number;
}

/** Busy CPU time of the whole machine so far, in ms (/proc/stat: all but idle and iowait, 100 ticks/s). */
function machineBusyMs(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return ((total - fields[3] - fields[4]) * 1000) / 100;
}

/** (utime + stime, cutime + cstime) of a process in ms, or undefined once it is gone (zombies still answer). */
function procCpuMs(pid: number): { self: number; reaped: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields 14–17 of stat (utime, stime, cutime, cstime), counted after the ")" that ends the command name.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      self: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100,
      reaped: ((Number(fields[13]) + Number(fields[14])) * 1000) / 100,
    };
  } catch {
    return undefined;
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/**
 * Every live (or not yet reaped) descendant of this process, through /proc/<pid>/task/<tid>/children: the
 * worker's children (through setpriv, prlimit and bubblewrap), per-job children, the chain node.
 */
function descendants(): number[] {
  const found: number[] = [];
  const queue = [process.pid];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      let text = '';
      try {
        text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
      } catch {
        // The task ended meanwhile.
      }
      for (const child of text.split(' ').filter(Boolean).map(Number)) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** Processes of the stack that are not this bench's descendants, by command line (read at the window's edges). */
function serviceClass(pid: number): string | undefined {
  const cmdline = cmdlineOf(pid);
  if (cmdline.startsWith('postgres')) return 'postgres';
  if (cmdline.includes('redis-server')) return 'redis';
  // The chain node, should it not have been started as a descendant.
  if (cmdline.includes('hardhat')) return 'chain';
  return undefined;
}

interface StackSnapshot {
  /** CPU so far of each classified process (descendants and services), by pid. */
  byPid: Map<number, { cls: string; ms: number }>;
  /** This process's own CPU (gateway, worker and the bench's clients all run in it). */
  selfMs: number;
  /** CPU of this process's reaped children, whole lives (the kernel adds a child's reaped descendants too). */
  reapedMs: number;
}

/**
 * A descendant is the chain node if its command line says so, else one of the worker's children (sandbox
 * wrappers included). The class sticks to the pid: a child that is exiting or a zombie has no command line.
 */
function classifyDescendant(pid: number, known: Map<number, string>): string {
  let cls = known.get(pid);
  if (!cls) {
    cls = cmdlineOf(pid).includes('hardhat') ? 'chain' : 'children';
    known.set(pid, cls);
  }
  return cls;
}

function stackSnapshot(known: Map<number, string>, withServices: boolean): StackSnapshot {
  const byPid = new Map<number, { cls: string; ms: number }>();
  for (const pid of descendants()) {
    const cpu = procCpuMs(pid);
    if (cpu) byPid.set(pid, { cls: classifyDescendant(pid, known), ms: cpu.self });
  }
  if (withServices) {
    for (const name of readdirSync('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid) || byPid.has(pid) || pid === process.pid) continue;
      const cls = serviceClass(pid);
      const cpu = cls ? procCpuMs(pid) : undefined;
      if (cls && cpu) byPid.set(pid, { cls, ms: cpu.self });
    }
  }
  const own = procCpuMs(process.pid) ?? { self: NaN, reaped: NaN };
  return { byPid, selfMs: own.self, reapedMs: own.reaped };
}

interface CpuWindow {
  /** Ends the window now (if its timer has not yet); the figures below are read from then on. */
  close: () => void;
  /** Busy CPU of the whole machine in the window: /proc/stat, or the sum of the parts if that is larger. */
  total: () => number;
  /** CPU by part of the stack in the window; 'rest of machine' is what no part accounts for (≥ 0). */
  byClass: () => Map<string, number>;
}

/** How often the window re-reads the bench's descendants, to catch children that exit without being reaped here. */
const CHILD_POLL_MS = 250;

/**
 * Machine CPU spent during the measured window, and its split by part of the stack.
 *
 * Children (pooled ones recycle, per-job ones exit after each job) are tracked by pid across the window:
 * children's CPU = (their reaped time at the end − at the start) + Σ live children's CPU at the end − Σ the
 * CPU of those alive at the start. Every child is a descendant of this process (found through /proc/<pid>/task/
 * <tid>/children, zombies included) and, ending, is reaped into this process's cutime with its whole life, so
 * what it had used before the window is taken off again: this is exact. In case a child's wrapper died first
 * and the child was reaped elsewhere, the descendants are re-read every CHILD_POLL_MS, and each child counts at
 * least what it was seen to use in the window (a lower bound, short of its last CHILD_POLL_MS). Services
 * (Postgres, Redis) are read at the edges only: a backend that exits in the window falls into 'rest'.
 */
function cpuWindow(durationMs?: number): CpuWindow {
  const known = new Map<number, string>();
  let start: StackSnapshot | undefined;
  let end: StackSnapshot | undefined;
  let busyStart = NaN;
  let busyEnd = NaN;
  // Per child pid: the CPU it had when first seen in the window (0 if born in it) and the last reading.
  const seen = new Map<number, { first: number; last: number }>();
  let poll: NodeJS.Timeout | undefined;
  const watchChildren = (snapshot: StackSnapshot, bornInWindow: boolean) => {
    for (const [pid, { cls, ms }] of snapshot.byPid) {
      if (cls !== 'children') continue;
      const s = seen.get(pid);
      if (s) s.last = ms;
      else seen.set(pid, { first: bornInWindow ? 0 : ms, last: ms });
    }
  };
  const open = () => {
    busyStart = machineBusyMs();
    start = stackSnapshot(known, true);
    watchChildren(start, false);
    poll = setInterval(() => watchChildren(stackSnapshot(known, false), true), CHILD_POLL_MS);
  };
  const close = () => {
    clearTimeout(t1);
    clearTimeout(t2);
    clearInterval(poll);
    if (!start || end) return;
    busyEnd = machineBusyMs();
    end = stackSnapshot(known, true);
    watchChildren(end, true);
  };
  const t1 = setTimeout(open, WARMUP_MS);
  const t2 = durationMs === undefined ? undefined : setTimeout(close, WARMUP_MS + durationMs);
  const parts = (): Map<string, number> => {
    close();
    const byClass = new Map<string, number>();
    if (!start || !end) return byClass;
    const add = (cls: string, ms: number) => byClass.set(cls, (byClass.get(cls) ?? 0) + ms);
    add('bench+gateway+worker', end.selfMs - start.selfMs);
    for (const [pid, { cls, ms }] of end.byPid) {
      if (cls !== 'children') add(cls, Math.max(0, ms - (start.byPid.get(pid)?.ms ?? 0)));
    }
    let exact = end.reapedMs - start.reapedMs;
    for (const [, { cls, ms }] of end.byPid) if (cls === 'children') exact += ms;
    for (const [, { cls, ms }] of start.byPid) if (cls === 'children') exact -= ms;
    let seenAtLeast = 0;
    for (const { first, last } of seen.values()) seenAtLeast += Math.max(0, last - first);
    if (exact < seenAtLeast - 50)
      log(
        `  children: ${f(seenAtLeast - exact, 0)} ms seen by the poll but not reaped here (their wrapper went first)`,
      );
    add('children', Math.max(exact, seenAtLeast));
    return byClass;
  };
  return {
    close,
    total: () => {
      const known = [...parts().values()].reduce((a, b) => a + b, 0);
      // /proc/stat counts in ticks, the processes' times are finer: the parts may pass it by a tick or two.
      return Math.max(busyEnd - busyStart, known);
    },
    byClass: () => {
      const byClass = parts();
      const known = [...byClass.values()].reduce((a, b) => a + b, 0);
      byClass.set('rest of machine', Math.max(0, busyEnd - busyStart - known));
      return byClass;
    },
  };
}

function perJob(byClass: Map<string, number>, jobs: number): Map<string, number> {
  return new Map([...byClass].map(([k, v]) => [k, v / jobs]));
}

function arg(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const median = (values: number[]) => percentile(values, 50);
const log = (line: string) => process.stderr.write(`${line}\n`);

// ---------------------------------------------------------------- (a) the pipeline

interface Setup {
  gw: RunningGateway;
  app: App;
  fileId: string;
  grantId: string;
}

/**
 * Submits and waits for the terminal status over SSE, as an app streaming the result would; or, with
 * `preferWait`, in the POST itself (`Prefer: wait`), as an app that wants the result in one request would.
 */
async function oneOperation(
  s: Setup,
  signal: AbortSignal,
  preferWait = false,
): Promise<{ id: string; ok: boolean; postMs: number }> {
  const t0 = performance.now();
  const res = await fetch(`${s.gw.url}/v1/operations`, {
    method: 'POST',
    headers: {
      ...bearer(s.app.key),
      'content-type': 'application/json',
      ...(preferWait ? { Prefer: 'wait=60' } : {}),
    },
    body: JSON.stringify({ operation: 'stats', fileIds: [s.fileId], parameters: {}, grantId: s.grantId }),
    signal,
  });
  const { id, status: posted } = await json<{ id: string; status: string }>(res);
  const postMs = performance.now() - t0;
  if (preferWait) return { id, ok: posted === 'succeeded', postMs };
  const events = await fetch(`${s.gw.url}/v1/operations/${id}/events`, {
    headers: bearer(s.app.key),
    signal,
  });
  // The stream ends right after the terminal status.
  const text = await events.text();
  const status = TERMINAL.exec(text)?.[1];
  return { id, ok: status === 'succeeded', postMs };
}

async function runPipeline(
  s: Setup,
  worker: RunningWorker,
  mode: IsolationMode,
  concurrency: number,
  preferWait = false,
): Promise<PipelineRun> {
  const durationMs = mode === 'per-job' ? PER_JOB_DURATION_MS : DURATION_MS;
  // A per-job window stays open past its duration until it holds enough jobs to mean something, up to a cap.
  const minJobs = mode === 'per-job' ? PER_JOB_MIN_JOBS : 0;
  const maxWindowMs = Math.max(durationMs, PER_JOB_MAX_WINDOW_MS);
  const pool = worker.app.get(IsolationPool, { strict: false }).pool;
  const spawnedBefore = pool.stats().spawned;
  const samples: Sample[] = [];
  let failed = 0;
  let inFlight = 0;
  let started = 0;
  const warmEnd = performance.now() + WARMUP_MS;
  let end = Infinity;
  // Past the drain, requests still open are abandoned: their streams close, so the gateway can shut down.
  const abort = new AbortController();
  const cpu = cpuWindow();
  const windowDone = new Promise<void>((resolve) => {
    const check = setInterval(() => {
      const now = performance.now();
      if (now < warmEnd + durationMs) return;
      if (samples.length < minJobs && now < warmEnd + maxWindowMs) return;
      end = now;
      cpu.close();
      clearInterval(check);
      resolve();
    }, 50);
  });
  const client = async (): Promise<void> => {
    while (performance.now() < end && !abort.signal.aborted) {
      const t0 = performance.now();
      inFlight++;
      started++;
      try {
        const op = await oneOperation(s, abort.signal, preferWait);
        const t1 = performance.now();
        if (t1 < warmEnd || t1 > end) continue;
        if (op.ok) samples.push({ id: op.id, e2eMs: t1 - t0, postMs: op.postMs });
        else failed++;
      } catch (err) {
        if (abort.signal.aborted) return;
        failed++;
        log(`  operation error: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        inFlight--;
      }
    }
  };
  let drainTimer: NodeJS.Timeout | undefined;
  let unfinished = 0;
  const drained = windowDone.then(
    () =>
      new Promise<void>((resolve) => {
        drainTimer = setTimeout(() => {
          unfinished = inFlight;
          abort.abort();
          resolve();
        }, DRAIN_MS);
      }),
  );
  const clients = Promise.all(Array.from({ length: concurrency }, client));
  await Promise.race([clients, drained]);
  clearTimeout(drainTimer);
  await clients;
  const windowMs = end - warmEnd;
  if (samples.length < minJobs)
    log(`  ${mode} c=${concurrency}: only ${samples.length} jobs in the ${f(windowMs / 1000)} s cap`);
  const e2e = samples.map((x) => x.e2eMs);
  return {
    result: {
      variant: preferWait ? PREFER_WAIT : mode,
      concurrency,
      jobs: samples.length,
      failed,
      unfinished,
      perSecond: samples.length / (windowMs / 1000),
      p50: percentile(e2e, 50),
      p99: percentile(e2e, 99),
      cpuMsPerJob: cpu.total() / samples.length,
      cpuByClass: perJob(cpu.byClass(), samples.length),
    },
    samples,
    childrenSpawned: (pool.stats().spawned - spawnedBefore) / Math.max(1, started),
  };
}

// ---------------------------------------------------------------- (b) the bare floor (bench/lib/bullmq-round-trip.ts)

async function runBare(concurrency: number, childEnv: Record<string, string>): Promise<Result> {
  const pool = new ChildPool({
    childScript: WORKER_CHILD_SCRIPT,
    mode: 'pooled',
    size: WORKER_CONCURRENCY,
    jobTimeoutMs: 30_000,
    stdio: 'ignore',
    env: childEnv,
  });
  await pool.ready();
  let cpu: CpuWindow | undefined;
  const { latencies, failed, unfinished } = await bullmqRoundTrip({
    redisUrl: REDIS_URL,
    name: `bench-pipeline-bare-${concurrency}`,
    concurrency,
    workerConcurrency: WORKER_CONCURRENCY,
    processor: () => pool.run('noop'),
    warmupMs: WARMUP_MS,
    durationMs: DURATION_MS,
    drainMs: DRAIN_MS,
    onStart: () => (cpu = cpuWindow(DURATION_MS)),
    // The pool first, so jobs it still runs fail fast instead of holding the worker's close.
    beforeClose: () => pool.close(1000),
  });
  // Both edges of the CPU window were read when they passed; reading the result later changes nothing.
  const cpuMs = cpu?.total() ?? NaN;
  const cpuByClass = perJob(cpu?.byClass() ?? new Map<string, number>(), latencies.length);
  return {
    variant: 'bare noop (b)',
    concurrency,
    jobs: latencies.length,
    failed,
    unfinished,
    perSecond: latencies.length / (DURATION_MS / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuMsPerJob: cpuMs / latencies.length,
    cpuByClass,
  };
}

/** Wall time from fork to ready of a per-job child (the same child script and warm-up the worker's children run). */
async function childStartMs(childEnv: Record<string, string>, n: number): Promise<number[]> {
  const starts: number[] = [];
  const pool = new ChildPool({
    childScript: WORKER_CHILD_SCRIPT,
    mode: 'per-job',
    size: 1,
    spares: 0,
    stdio: 'ignore',
    env: childEnv,
    onEvent: (e) => {
      if (e.type === 'ready') starts.push(e.startMs);
    },
  });
  for (let i = 0; i < n; i++) await pool.run('noop');
  await pool.close(1000);
  return starts;
}

// ---------------------------------------------------------------- (c) floors

/** CPU of this process per call of `fn` (user + system, ms), after a warm-up; nothing else runs meanwhile. */
async function cpuPerCall(n: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(100, n); i++) await fn();
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / n;
}

async function floors(s: Setup, operationId: string): Promise<Array<[string, number]>> {
  const rpcUrl = s.gw.config.CHAIN_RPC_URL;
  const viaUndici = createHearthPublicClient({ rpcUrl, chainId: s.gw.config.CHAIN_ID });
  const viaGlobalFetch = createPublicClient({ transport: http(rpcUrl, { retryCount: 0 }) });
  const inference = inferenceOptionsFromConfig(s.gw.config);
  const text = Buffer.from(NOTE_1KIB, 'utf8');
  const docs = [
    {
      fileId: s.fileId,
      name: 'note.txt',
      contentType: 'text/plain',
      bytes: text,
      contributor: s.app.account.address,
    },
  ];
  const key = generatePrivateKey();
  const signer = privateKeyToAccount(key).address;
  const typedData = receiptTypedData(s.gw.config.CHAIN_ID, {
    server: signer,
    operationId,
    grantId: s.grantId,
    blockNumber: '1',
    app: s.app.account.address,
    operation: 'stats',
    operationVersion: '1.0.0',
    codeHash: `0x${'11'.repeat(32)}`,
    inputsHash: `0x${'22'.repeat(32)}`,
    parametersHash: `0x${'44'.repeat(32)}`,
    outputHash: `0x${'33'.repeat(32)}`,
    engine: 'builtin',
    model: 'wink',
    privacyEpsilon: '0',
    sandboxLevel: 'namespaced',
    workerCodeHash: `0x${'55'.repeat(32)}`,
    quotedChars: '0',
    issuedAt: new Date().toISOString(),
  });
  return [
    [
      'GET /health/live (HTTP client + gateway)',
      await cpuPerCall(1000, () => fetch(`${s.gw.url}/health/live`).then((r) => r.arrayBuffer())),
    ],
    [
      'GET /v1/operations/:id, API key (HTTP client + gateway; not Postgres/Redis)',
      await cpuPerCall(1000, () =>
        fetch(`${s.gw.url}/v1/operations/${operationId}`, { headers: bearer(s.app.key) }).then((r) =>
          r.arrayBuffer(),
        ),
      ),
    ],
    [
      'eth_blockNumber through viem, undici request API (as the checker)',
      await cpuPerCall(1000, () => viaUndici.getBlockNumber({ cacheTime: 0 })),
    ],
    [
      'eth_blockNumber through viem, global fetch (its default)',
      await cpuPerCall(1000, () => viaGlobalFetch.getBlockNumber({ cacheTime: 0 })),
    ],
    [
      'receipt: EIP-712 digest + secp256k1 signature',
      await cpuPerCall(500, () => sign({ hash: receiptHash(typedData), privateKey: key })),
    ],
    [
      'engine: stats over the 1 KiB file',
      await cpuPerCall(500, () => runOperation(inference, 'stats', {}, docs)),
    ],
  ];
}

// ---------------------------------------------------------------- output

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

const f = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

function printResults(results: MergedResult[]): void {
  const rows = results.map((r) => {
    const isBase = r.variant === 'bare noop (b)';
    const ratio = (v: number, digits: number) => (isBase ? '-' : f(v, digits));
    return [
      r.variant,
      String(r.concurrency),
      String(r.jobs),
      String(r.failed),
      String(r.unfinished),
      f(r.perSecond),
      f(r.p50),
      f(r.p99),
      ratio(r.ratios.perSecond, 2),
      ratio(r.ratios.p50, 1),
      ratio(r.ratios.p99, 1),
      f(r.cpuMsPerJob, 2),
      ratio(r.ratios.cpuMsPerJob, 1),
    ];
  });
  table(
    [
      'mode',
      'conc',
      'ops',
      'failed',
      'unfinished',
      'ops/s',
      'p50 ms',
      'p99 ms',
      'ops/s (a)/(b)',
      'p50 (a)/(b)',
      'p99 (a)/(b)',
      'CPU ms/op',
      'CPU (a)/(b)',
    ],
    rows,
  );
  const classes = ['bench+gateway+worker', 'children', 'postgres', 'redis', 'chain', 'rest of machine'];
  console.log(
    '\nCPU ms per op by part of the stack (user + system of its processes during the window, children tracked by pid\n' +
      'including those that exited; rest = busy CPU of the machine no part accounts for)\n',
  );
  table(
    ['mode', 'conc', ...classes],
    results.map((r) => [
      r.variant,
      String(r.concurrency),
      ...classes.map((c) => f(r.cpuByClass.get(c) ?? 0, 2)),
    ]),
  );
  console.log(
    '(CPU ms/op: busy CPU of the whole machine during the window per finished job — every process of the stack;\n' +
      ' with 2 cores saturated, throughput is about 2000 / CPU ms/op, so (a) reaches 40 % of (b) only if it costs\n' +
      ' at most 2.5× the CPU of a no-op round trip)',
  );
}

async function timingsOf(db: Client, ids: string[]): Promise<Map<string, Record<string, number>>> {
  const { rows } = await db.query<{ id: string; timings: Record<string, number> | null }>(
    'SELECT id, timings FROM operations WHERE id = ANY($1)',
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r.timings ?? {}]));
}

async function printBreakdown(
  db: Client,
  runs: Array<{ mode: IsolationMode; run: PipelineRun }>,
  childStarts: number[],
): Promise<void> {
  const header = [
    'mode',
    'conc',
    'e2e',
    'POST',
    ...TIMING_KEYS.map((k) => k.replace(/Ms$/, '')),
    'store+notify',
    'children/op',
  ];
  const rows: string[][] = [];
  for (const mode of ['pooled', 'per-job'] as const) {
    if (!runs.some((r) => r.mode === mode)) continue;
    const all: Array<{ sample: Sample; t: Record<string, number> }> = [];
    for (const { run } of runs.filter((r) => r.mode === mode)) {
      const timings = await timingsOf(
        db,
        run.samples.map((x) => x.id),
      );
      const joined = run.samples.map((sample) => ({ sample, t: timings.get(sample.id) ?? {} }));
      all.push(...joined);
      rows.push(breakdownRow(mode, String(run.result.concurrency), joined, f(run.childrenSpawned, 2)));
    }
    rows.push(breakdownRow(mode, 'all', all, '-'));
  }
  table(header, rows);
  console.log(
    '(medians in ms; POST = the HTTP round trip of POST /v1/operations as the client sees it; queueWait = enqueue → handler start;\n' +
      ' totalWorker = handler start → outcome ready (claim, load, child); store+notify = e2e − POST − queueWait − totalWorker:\n' +
      ' the recording statement and the status event reaching the SSE client (queueWait starts at the enqueue inside POST, so\n' +
      ' it can dip below 0); children/op = children forked per operation)',
  );
  if (childStarts.length === 0) return;
  console.log(
    `per-job child start (fork → ready, same child script and warm-up, no load but this bench): median ${f(median(childStarts))} ms, ` +
      `min ${f(Math.min(...childStarts))} ms, max ${f(Math.max(...childStarts))} ms over ${childStarts.length} children`,
  );
}

function breakdownRow(
  mode: string,
  conc: string,
  joined: Array<{ sample: Sample; t: Record<string, number> }>,
  children: string,
): string[] {
  const pick = (fn: (x: { sample: Sample; t: Record<string, number> }) => number) =>
    f(median(joined.map(fn)));
  return [
    mode,
    conc,
    pick((x) => x.sample.e2eMs),
    pick((x) => x.sample.postMs),
    ...TIMING_KEYS.map((k) => pick((x) => x.t[k] ?? NaN)),
    pick((x) => x.sample.e2eMs - x.sample.postMs - (x.t.queueWaitMs ?? 0) - (x.t.totalWorkerMs ?? 0)),
    children,
  ];
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const benchStart = performance.now();
  console.log(
    `pipeline bench: node ${process.version}, ${availableParallelism()} CPUs, ${DURATION_MS} ms per scenario after ${WARMUP_MS} ms warm-up, ` +
      `closed loop (c clients), worker concurrency ${WORKER_CONCURRENCY} for (a) and (b)`,
  );
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  await checkServices(BASE_DATABASE_URL, REDIS_URL);
  const dbUrl = new URL(BASE_DATABASE_URL);
  dbUrl.pathname = `/hearth_bench_${Date.now()}_${process.pid}`;
  const databaseUrl = dbUrl.toString();
  const home = mkdtempSync(join(tmpdir(), 'hearth-bench-'));
  const chain = await startChainForTests(home);
  let gw: RunningGateway | undefined;
  let worker: RunningWorker | undefined;
  const db = new Client({ connectionString: databaseUrl });
  let dbOpen = false;
  try {
    await runMigrations(databaseUrl);
    await db.connect();
    dbOpen = true;
    const overrides: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      HEARTH_HOME: home,
      QUEUE_PREFIX: `hearth-bench-${process.pid}`,
      WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
      ...chain.env,
    };
    gw = await startGateway(overrides);
    const tenant = await newTenant(gw.url);
    const fileId = await uploadText(gw.url, tenant, 'note.txt', NOTE_1KIB);
    const app = await newApp(gw.url, tenant, { ratePerMinute: 1_000_000 });
    const grantId = await grant(relayerFor(gw.config), tenant, app.account.address, ['stats'], [fileId]);
    const setup: Setup = { gw, app, fileId, grantId };
    const childEnv = { NODE_ENV: 'test', TZ: 'UTC' };
    log(`setup done in ${f((performance.now() - benchStart) / 1000)} s`);

    const results: Result[] = [];
    const runs: Array<{ mode: IsolationMode; run: PipelineRun }> = [];
    const runMode = async (mode: IsolationMode, round: number) => {
      worker = await startWorker({ ...overrides, ISOLATION_MODE: mode });
      await worker.app.get(IsolationPool, { strict: false }).pool.ready();
      // In pooled mode, the SSE pair and `Prefer: wait` share the worker; which goes first alternates by round.
      const kinds =
        mode === 'per-job' ? [false] : [false, true].filter((w) => ONLY.has(w ? 'prefer-wait' : 'pooled'));
      for (const preferWait of round % 2 ? kinds.reverse() : kinds) {
        for (const c of CONCURRENCY) {
          const run = await runPipeline(setup, worker, mode, c, preferWait);
          results.push(run.result);
          if (!preferWait) runs.push({ mode, run });
          log(
            `  ${preferWait ? PREFER_WAIT : mode} c=${c}: ${f(run.result.perSecond)} ops/s (${run.result.jobs} ops), ` +
              `p50 ${f(run.result.p50)} ms, p99 ${f(run.result.p99)} ms`,
          );
        }
      }
      await worker.close();
      worker = undefined;
    };
    const runBareAll = async () => {
      for (const c of CONCURRENCY) {
        const r = await runBare(c, childEnv);
        results.push(r);
        log(`  bare c=${c}: ${f(r.perSecond)} jobs/s, p50 ${f(r.p50)} ms, p99 ${f(r.p99)} ms`);
      }
    };
    // Every round runs the baseline (b) and each variant; the baseline goes first in even rounds and last in
    // odd ones, and the variants' own order flips too, so that a change in the machine's load shows in every
    // variant alike and no variant always follows (b). Each ratio below is the median of the per-round ratios.
    const variants: Array<() => Promise<void>> = [];
    if (ONLY.has('pooled') || ONLY.has('prefer-wait')) variants.push(() => runMode('pooled', round));
    if (ONLY.has('per-job')) variants.push(() => runMode('per-job', round));
    let round = 0;
    const perRound: Result[][] = [];
    for (; round < ROUNDS; round++) {
      log(`round ${round + 1} of ${ROUNDS}`);
      const before = results.length;
      const ordered = round % 2 ? [...variants].reverse() : [...variants];
      if (ONLY.has('bare') && round % 2 === 0) await runBareAll();
      for (const step of ordered) await step();
      if (ONLY.has('bare') && round % 2 === 1) await runBareAll();
      perRound.push(results.slice(before));
    }
    const childStarts = ONLY.has('per-job') ? await childStartMs(childEnv, 6) : [];

    const order: Variant[] = ['bare noop (b)', 'pooled', PREFER_WAIT, 'per-job'];
    const merged = mergeRounds(perRound).sort(
      (x, y) => order.indexOf(x.variant) - order.indexOf(y.variant) || x.concurrency - y.concurrency,
    );
    console.log(
      `\n(a) stats over 1 KiB, POST → terminal status over SSE; (b) bare BullMQ round trip through a pooled noop child; ` +
        `medians over ${ROUNDS} rounds\n`,
    );
    printResults(merged);
    if (merged.length === 0)
      console.log('nothing measured: --only names none of pooled, prefer-wait, bare, per-job');
    for (const variant of ['pooled', PREFER_WAIT] as const) {
      const verdicts = merged
        .filter((r) => r.variant === variant && Number.isFinite(r.ratios.perSecond))
        .map((r) => ({ c: r.concurrency, ratio: r.ratios.perSecond }));
      if (!merged.some((r) => r.variant === variant)) continue;
      if (verdicts.length === 0) {
        console.log(`\n${variant} reaches >= 40% of (b): not measured (no (b) in this run; add --only=bare)`);
        continue;
      }
      const passing = verdicts.filter((v) => v.ratio >= 0.4);
      console.log(
        `\n${variant} reaches >= 40% of (b) at ${passing.length}/${verdicts.length} concurrencies ` +
          `(${verdicts.map((v) => `c=${v.c}: ${f(v.ratio * 100, 0)}%`).join(', ')}): ` +
          (passing.length === verdicts.length ? 'YES' : passing.length === 0 ? 'NO' : 'PARTLY'),
      );
    }
    console.log('\nwhere the time goes\n');
    await printBreakdown(db, runs, childStarts);
    const finished = runs.flatMap(({ run }) => run.samples).at(-1);
    if (ONLY.has('floors') && finished) {
      console.log('\nfloors: CPU of this process per call, gateway and worker idle (ms)\n');
      const rows = await floors(setup, finished.id);
      table(
        ['part', 'CPU ms/call'],
        rows.map(([part, msPerCall]) => [part, f(msPerCall, 3)]),
      );
    }
    console.log(
      `\nload average at end: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; whole bench ${f((performance.now() - benchStart) / 1000)} s`,
    );
  } finally {
    await worker?.close().catch(() => undefined);
    await gw?.close().catch(() => undefined);
    if (dbOpen) await db.end().catch(() => undefined);
    await chain.stop();
    await dropDatabase(databaseUrl).catch((err: unknown) =>
      log(`could not drop the bench database: ${String(err)}`),
    );
    rmSync(home, { recursive: true, force: true });
  }
}

main().then(
  // Exit explicitly: a driver's pool or a keep-alive socket left behind must not hold the shell.
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
