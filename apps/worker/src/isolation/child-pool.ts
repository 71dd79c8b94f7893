import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { IsolationError, type IsolationErrorCode } from './isolation-error';
import {
  CHILD_CODES,
  CHILD_FLAGS,
  CHILD_PARENT_PID_ENV,
  SANDBOX_TMP_ENV,
  SANDBOX_TMP_KEEP_ENV,
  isChildMessage,
  type ChildMessage,
  type ParentMessage,
} from './protocol';
import {
  limitFromExit,
  SANDBOX_INFO_FD,
  sandboxCommand,
  type SandboxLevel,
  type SandboxSpec,
} from './sandbox';

export type IsolationMode = 'pooled' | 'per-job';

/** util-linux's setpriv, when the system has it (it sets a child's parent-death signal; Node cannot). */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));

export interface ChildPoolOptions {
  /** `pooled` (default): warm children take jobs in turn. `per-job`: a fresh child per job. */
  mode?: IsolationMode;
  /** Maximum jobs running at once (= children busy at once). Match the BullMQ worker's concurrency. */
  size: number;
  /**
   * Compiled child entry, a script that calls `runChild` with its tasks. Defaults to child-main.js beside this
   * file (noop and the test tasks only); the worker passes its own (WORKER_CHILD_SCRIPT).
   */
  childScript?: string;
  /** pooled: recycle a child after this many jobs. Default 500. */
  maxJobsPerChild?: number;
  /** pooled: recycle a child whose RSS after a job is above this. Default 512. */
  maxRssMb?: number;
  /** V8 old-space cap of each child (`--max-old-space-size`). Default 1024. */
  memoryCapMb?: number;
  /** A job running longer than this gets its child SIGKILLed and fails with `job_timeout`. Default 60000. */
  jobTimeoutMs?: number;
  /** The child's whole environment. Nothing of the parent's leaks in; credentials are refused. */
  env?: Readonly<Record<string, string>>;
  /** per-job: warm children kept pre-started, off the job's latency. Default min(size, 2). */
  spares?: number;
  /** Registers the test-only tasks (echo, sleep, alloc, env...) in children. Never in production. */
  allowTestTasks?: boolean;
  /** A child that has not reported ready within this is killed (a start failure). Default 30000. */
  startTimeoutMs?: number;
  /**
   * Children starting at once. Node's start is CPU-bound: starting 64 at once on 2 cores makes every one of
   * them late, while a few at a time puts the first ones to work sooner. Default: the number of CPUs.
   */
  maxStarting?: number;
  /** Default for close(): how long running jobs may take before their children are killed. Default 30000. */
  closeTimeoutMs?: number;
  /** Children's stdout/stderr. Default `inherit` (their logs join the worker's). */
  stdio?: 'inherit' | 'ignore';
  /** Run children as another user (needs privileges), so they cannot read the parent's /proc/<pid>/environ. */
  uid?: number;
  gid?: number;
  /**
   * Confinement of every child (see sandbox.ts). Default: none. The pool sets the CPU-seconds limit itself
   * from `jobTimeoutMs` (a pooled child is recycled before its lifetime budget could cut a job short).
   */
  sandbox?: SandboxSpec;
  /** Lifecycle events for logs and metrics. Carries no job data. A throwing listener is ignored. */
  onEvent?: (event: ChildPoolEvent) => void;
}

export type RecycleReason = 'max_jobs' | 'max_rss' | 'cpu_budget' | 'leaked_handles' | 'one_shot' | 'close';

export type ChildPoolEvent =
  | { type: 'spawn'; pid: number | undefined }
  | { type: 'ready'; pid: number; startMs: number }
  | { type: 'recycle'; pid: number; reason: RecycleReason; jobs: number; rssBytes?: number }
  | {
      type: 'exit';
      pid: number | undefined;
      exitCode: number | null;
      signal: NodeJS.Signals | null;
      expected: boolean;
    }
  | { type: 'job'; pid: number; task: string; outcome: 'ok' | IsolationErrorCode; durationMs: number };

export interface RunOptions {
  /** Cancels the job: removed from the queue, or its child is killed. Rejects with `job_aborted`. */
  signal?: AbortSignal;
}

export interface ChildPoolStats {
  mode: IsolationMode;
  sandboxLevel: SandboxLevel;
  size: number;
  children: { starting: number; idle: number; busy: number; retiring: number };
  /** Pids of live children that may take jobs (starting, idle or busy). */
  pids: number[];
  queued: number;
  running: number;
  spawned: number;
  completed: number;
  failed: number;
  timedOut: number;
  crashed: number;
  aborted: number;
  recycled: number;
  startFailures: number;
}

type ChildState = 'starting' | 'idle' | 'busy' | 'retiring' | 'dead';

interface Job {
  id: number;
  task: string;
  input: unknown;
  resolve: (value: unknown) => void;
  reject: (err: IsolationError) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
  timer?: NodeJS.Timeout;
  child?: Child;
  startedAt?: number;
  settled: boolean;
}

interface Child {
  proc: ChildProcess;
  /** Its slot: a uid of its own when the worker is root. Unique among live children. */
  slot: number;
  /** A namespaced child: the host pid of its namespace's init, as bubblewrap reports it. */
  sandboxPid?: number;
  /** Killed before that pid was known: the kill waits for it (see kill). */
  pendingKill?: NodeJS.Timeout;
  pid: number | undefined;
  state: ChildState;
  jobs: number;
  job?: Job;
  spawnedAt: number;
  startTimer?: NodeJS.Timeout;
  killTimer?: NodeJS.Timeout;
  /** The pool ended this child on purpose (recycle, timeout, abort, close). */
  expectedExit: boolean;
  /** It reported ready at some point. */
  wasReady: boolean;
  /** Killed for not reporting ready in time. */
  startTimedOut: boolean;
}

const MIB = 1024 * 1024;
const RETIRE_GRACE_MS = 2000;
/** How long an exited child's IPC channel may take to deliver what it had written. */
const EXIT_DRAIN_MS = 500;
/** How long a kill waits for bubblewrap to report its sandbox's pid before killing bubblewrap alone. */
const SANDBOX_INFO_WAIT_MS = 2000;
const START_FAILURES_BEFORE_REJECT = 3;
// Names a child must never see, even when a caller passes them on purpose.
const FORBIDDEN_ENV = [
  /^DATABASE_URL$/,
  /^REDIS_URL$/,
  /^ADMIN_TOKEN$/,
  /^NODE_OPTIONS$/,
  /^AWS_/,
  /MASTER_KEY/,
  /^HEARTH_HOME$/,
  /^KEYSTORE_DIR$/,
];
/** CPU seconds a pooled child may spend in its life, in jobs' worth: it is recycled a job's worth early. */
const POOLED_CPU_JOBS = 4;
/** CPU seconds for starting node and loading the engines, on top of the jobs' own. */
const START_CPU_SECONDS = 20;

/** Slots of live children across every pool of the process: two sandboxes never share a uid. */
const slotsInUse = new Set<number>();

export const DEFAULT_CHILD_SCRIPT = require.resolve('./child-main');

/**
 * Runs tasks in forked Node processes, one job per child at a time. Plain class (no Nest) so it can be
 * unit-tested and benchmarked; the worker wraps it in a provider and closes it on shutdown.
 */
export class ChildPool {
  readonly mode: IsolationMode;
  readonly size: number;
  private readonly childScript: string;
  private readonly maxJobsPerChild: number;
  private readonly maxRssBytes: number;
  private readonly memoryCapMb: number;
  private readonly jobTimeoutMs: number;
  private readonly env: Readonly<Record<string, string>>;
  private readonly spares: number;
  private readonly startTimeoutMs: number;
  private readonly maxStarting: number;
  private readonly closeTimeoutMs: number;
  private readonly childArgs: string[];
  private readonly options: ChildPoolOptions;
  private readonly sandbox?: SandboxSpec;
  /** pooled: a child that has used more CPU than this (ms) is recycled before its next job. */
  private readonly cpuRecycleMs: number;
  readonly sandboxLevel: SandboxLevel;

  private readonly children = new Set<Child>();
  private readonly queue: Job[] = [];
  private seq = 0;
  private closing = false;
  private closePromise?: Promise<void>;
  private startFailures = 0;
  private backoffTimer?: NodeJS.Timeout;
  private readonly waiters = new Set<() => void>();
  private readonly counters = {
    spawned: 0,
    completed: 0,
    failed: 0,
    timedOut: 0,
    crashed: 0,
    aborted: 0,
    recycled: 0,
  };

  constructor(options: ChildPoolOptions) {
    this.options = options;
    this.mode = options.mode ?? 'pooled';
    if (this.mode !== 'pooled' && this.mode !== 'per-job')
      throw new RangeError(`mode: unknown ${String(this.mode)}`);
    this.size = positiveInt('size', options.size);
    this.childScript = options.childScript ?? DEFAULT_CHILD_SCRIPT;
    this.maxJobsPerChild = positiveInt('maxJobsPerChild', options.maxJobsPerChild ?? 500);
    this.maxRssBytes = positiveInt('maxRssMb', options.maxRssMb ?? 512) * MIB;
    this.memoryCapMb = positiveInt('memoryCapMb', options.memoryCapMb ?? 1024);
    this.jobTimeoutMs = positiveInt('jobTimeoutMs', options.jobTimeoutMs ?? 60_000);
    this.spares = nonNegativeInt('spares', options.spares ?? Math.min(this.size, 2));
    this.startTimeoutMs = positiveInt('startTimeoutMs', options.startTimeoutMs ?? 30_000);
    this.maxStarting = positiveInt('maxStarting', options.maxStarting ?? Math.max(2, availableParallelism()));
    this.closeTimeoutMs = nonNegativeInt('closeTimeoutMs', options.closeTimeoutMs ?? 30_000);
    this.env = checkEnv(options.env ?? {});
    const jobCpuSeconds = Math.ceil(this.jobTimeoutMs / 1000);
    const cpuSeconds = START_CPU_SECONDS + jobCpuSeconds * (this.mode === 'pooled' ? POOLED_CPU_JOBS : 1);
    this.cpuRecycleMs = (cpuSeconds - jobCpuSeconds - 1) * 1000;
    if (options.sandbox && options.sandbox.level !== 'none')
      this.sandbox = { ...options.sandbox, limits: { ...options.sandbox.limits, cpuSeconds } };
    this.sandboxLevel = this.sandbox?.level ?? 'none';
    this.childArgs = [];
    if (options.allowTestTasks) this.childArgs.push(CHILD_FLAGS.allowTestTasks);
    if (this.mode === 'per-job') this.childArgs.push(CHILD_FLAGS.oneShot);
    this.replenish();
  }

  /** Runs `task` in a child. Queues while every slot is busy. Rejects with an IsolationError. */
  run<TIn, TOut>(task: string, input?: TIn, opts: RunOptions = {}): Promise<TOut> {
    if (this.closing) return Promise.reject(new IsolationError('pool_closed', 'the pool is closed'));
    if (opts.signal?.aborted) return Promise.reject(new IsolationError('job_aborted', 'the job was aborted'));
    return new Promise<TOut>((resolve, reject) => {
      const job: Job = {
        id: ++this.seq,
        task,
        input,
        resolve: resolve as (value: unknown) => void,
        reject,
        signal: opts.signal,
        settled: false,
      };
      if (opts.signal) {
        job.onAbort = () => this.abort(job);
        opts.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.pump();
    });
  }

  /** Resolves once the warm children (pooled: `size`, per-job: `spares`) have started. */
  ready(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.closing) {
          this.waiters.delete(check);
          reject(new IsolationError('pool_closed', 'the pool is closed'));
        } else if (this.startFailures >= START_FAILURES_BEFORE_REJECT) {
          this.waiters.delete(check);
          reject(new IsolationError('child_start_failed', 'children fail to start'));
        } else if (this.count('idle') >= this.warmTarget()) {
          this.waiters.delete(check);
          resolve();
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  stats(): ChildPoolStats {
    const pids: number[] = [];
    for (const c of this.children) {
      if (c.pid !== undefined && (c.state === 'starting' || c.state === 'idle' || c.state === 'busy'))
        pids.push(c.pid);
    }
    return {
      mode: this.mode,
      sandboxLevel: this.sandboxLevel,
      size: this.size,
      children: {
        starting: this.count('starting'),
        idle: this.count('idle'),
        busy: this.count('busy'),
        retiring: this.count('retiring'),
      },
      pids,
      queued: this.queue.length,
      running: this.count('busy'),
      ...this.counters,
      startFailures: this.startFailures,
    };
  }

  /**
   * Stops taking jobs (queued ones reject with `pool_closed`), lets running jobs finish for up to `timeoutMs`,
   * then kills what is left (those jobs reject with `pool_closed`). Resolves when every child has exited.
   */
  close(timeoutMs = this.closeTimeoutMs): Promise<void> {
    this.closePromise ??= this.doClose(timeoutMs);
    return this.closePromise;
  }

  private async doClose(timeoutMs: number): Promise<void> {
    this.closing = true;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    for (const job of this.queue.splice(0))
      this.fail(job, new IsolationError('pool_closed', 'the pool is closed'));
    for (const child of this.children) {
      if (child.state === 'idle' || child.state === 'starting') this.retire(child, 'close');
    }
    this.notify();
    const idle = this.until(() => this.count('busy') === 0);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([idle, timedOut]);
    clearTimeout(timer);
    for (const child of this.children) {
      if (child.job)
        this.failChildJob(child, new IsolationError('pool_closed', 'the pool closed before the job ended'));
      if (child.state !== 'dead') this.kill(child, 'close');
    }
    await this.until(() => this.children.size === 0);
  }

  // ---- scheduling ----

  private pump(): void {
    while (!this.closing && this.queue.length > 0 && this.count('busy') < this.size) {
      const child = this.firstIdle();
      if (!child) break;
      this.dispatch(this.queue.shift()!, child);
    }
    this.replenish();
    this.notify();
  }

  /** How many live, not-busy children we want: pooled keeps `size` in all, per-job keeps spares plus demand. */
  private warmTarget(): number {
    const busy = this.count('busy');
    if (this.mode === 'pooled') return this.size - busy;
    return this.spares + Math.min(this.queue.length, this.size - busy);
  }

  private replenish(): void {
    if (this.closing || this.backoffTimer) return;
    const starting = this.count('starting');
    const missing = Math.min(this.warmTarget() - starting - this.count('idle'), this.maxStarting - starting);
    for (let i = 0; i < missing; i++) this.spawn();
  }

  private dispatch(job: Job, child: Child): void {
    child.state = 'busy';
    child.job = job;
    child.jobs++;
    job.child = child;
    job.startedAt = performance.now();
    job.timer = setTimeout(() => this.onTimeout(child, job), this.jobTimeoutMs);
    const message: ParentMessage = { type: 'run', id: job.id, task: job.task, input: job.input };
    try {
      // A failed write means the child is dying: its exit event fails the job as child_crashed.
      child.proc.send(message, (err) => void err);
    } catch {
      // why: serialization threw synchronously (a function or symbol in the input); the child never saw the job.
      child.job = undefined;
      child.jobs--;
      child.state = 'idle';
      this.fail(job, new IsolationError('invalid_input', 'the job input cannot be serialized'));
    }
  }

  private onTimeout(child: Child, job: Job): void {
    if (child.job !== job) return;
    this.counters.timedOut++;
    this.failChildJob(
      child,
      new IsolationError('job_timeout', `the job ran past ${this.jobTimeoutMs} ms`, { pid: child.pid }),
    );
    this.kill(child);
    this.pump();
  }

  private abort(job: Job): void {
    if (job.settled) return;
    this.counters.aborted++;
    const err = new IsolationError('job_aborted', 'the job was aborted');
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.fail(job, err);
    } else if (job.child && job.child.job === job) {
      const child = job.child;
      this.failChildJob(child, err);
      this.kill(child);
    }
    this.pump();
  }

  // ---- children ----

  private spawn(): Child {
    const stdio = this.options.stdio === 'ignore' ? 'ignore' : 'inherit';
    const execArgv = [`--max-old-space-size=${this.memoryCapMb}`];
    const slot = this.freeSlot();
    const namespaced = this.sandbox?.level === 'namespaced';
    const env: Record<string, string> = { ...this.env };
    // Inside its own pid namespace the child cannot see the worker's pid: it watches the parent it starts with.
    if (!namespaced) env[CHILD_PARENT_PID_ENV] = String(process.pid);
    else {
      env[SANDBOX_TMP_ENV] = '/tmp';
      const keep = boundUnderTmp(this.sandbox?.readOnlyPaths ?? []);
      if (keep.length > 0) env[SANDBOX_TMP_KEEP_ENV] = JSON.stringify(keep);
    }
    const common = {
      // A copy: Node adds its IPC variables to the object it gets (the child deletes them at start).
      env,
      serialization: 'advanced' as const,
      stdio: ['ignore', stdio, stdio, 'ipc'] as ['ignore', typeof stdio, typeof stdio, 'ipc'],
      uid: this.options.uid,
      gid: this.options.gid,
    };
    const nodeArgs = [...execArgv, this.childScript, ...this.childArgs];
    let proc: ChildProcess;
    if (this.sandbox) {
      // setpriv (no new privileges, parent-death signal, the slot's uid) → prlimit → bubblewrap → node; each
      // execs the next in place, so the IPC channel (fd 3) reaches node. bubblewrap reports its sandbox's pid on
      // fd 4: killing that init ends the whole pid namespace even if bubblewrap itself is killed mid-setup.
      const cmd = sandboxCommand(this.sandbox, slot, process.execPath, nodeArgs, { infoFd: namespaced });
      const filter = namespaced ? this.sandbox.probe.seccomp : undefined;
      const sandboxStdio = namespaced
        ? [filter ? ('pipe' as const) : ('ignore' as const), ...common.stdio.slice(1), 'pipe' as const]
        : common.stdio;
      proc = spawn(cmd.command, cmd.args, { ...common, stdio: sandboxStdio });
      if (filter && proc.stdin) {
        // Far below a pipe's buffer: written at once; bubblewrap reads it to EOF before it runs node.
        proc.stdin.on('error', () => undefined);
        proc.stdin.end(filter);
      }
    } else if (SETPRIV) {
      // The kernel kills the child when its worker dies, even by SIGKILL and even while the child is busy in a
      // synchronous step (its own parent watch runs on its event loop): setpriv sets the parent-death signal,
      // then execs node in place (same pid, same IPC channel).
      proc = spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', process.execPath, ...nodeArgs], common);
    } else {
      proc = fork(this.childScript, this.childArgs, { ...common, execArgv });
    }
    const child: Child = {
      proc,
      slot,
      pid: proc.pid,
      state: 'starting',
      jobs: 0,
      spawnedAt: performance.now(),
      expectedExit: false,
      wasReady: false,
      startTimedOut: false,
    };
    this.children.add(child);
    this.counters.spawned++;
    if (namespaced) this.watchSandboxInfo(child);
    child.startTimer = setTimeout(() => {
      if (child.state !== 'starting') return;
      child.startTimedOut = true;
      this.kill(child);
    }, this.startTimeoutMs);
    proc.on('message', (msg: unknown) => this.onMessage(child, msg));
    proc.on('exit', (code, signal) => {
      // A one-shot child exits right after writing its reply; through bubblewrap the exit can be seen before
      // the reply is read. Messages still in the channel come before its disconnect: handle the exit after it.
      if (!proc.connected) {
        this.onExit(child, code, signal);
        return;
      }
      const onDisconnect = () => {
        clearTimeout(fallback);
        this.onExit(child, code, signal);
      };
      const fallback = setTimeout(() => {
        proc.off('disconnect', onDisconnect);
        this.onExit(child, code, signal);
      }, EXIT_DRAIN_MS);
      proc.once('disconnect', onDisconnect);
    });
    proc.on('error', () => {
      // Spawn failures never produce a pid or an exit event; other errors (kill/send) precede an exit.
      if (proc.pid === undefined) this.onExit(child, null, null);
    });
    this.emit({ type: 'spawn', pid: proc.pid });
    return child;
  }

  private onMessage(child: Child, raw: unknown): void {
    if (!isChildMessage(raw) || child.state === 'dead') return;
    if (raw.type === 'ready') {
      if (child.state !== 'starting') return;
      clearTimeout(child.startTimer);
      this.startFailures = 0;
      child.wasReady = true;
      child.state = 'idle';
      this.emit({ type: 'ready', pid: raw.pid, startMs: performance.now() - child.spawnedAt });
      if (this.closing) this.retire(child, 'close');
      this.pump();
      return;
    }
    const job = child.job;
    if (!job || job.id !== raw.id) return;
    child.job = undefined;
    const reason = this.recycleReason(child, raw);
    if (reason) this.retire(child, reason, raw.rssBytes);
    else child.state = 'idle';
    if (raw.type === 'done') {
      this.counters.completed++;
      this.settle(job, 'ok', () => job.resolve(raw.output));
    } else {
      this.fail(job, childError(raw, child.pid));
    }
    this.pump();
  }

  private recycleReason(
    child: Child,
    msg: ChildMessage & { type: 'done' | 'error' },
  ): RecycleReason | undefined {
    if (this.mode === 'per-job') return 'one_shot';
    if (this.closing) return 'close';
    if (msg.leaked) return 'leaked_handles';
    if (child.jobs >= this.maxJobsPerChild) return 'max_jobs';
    if (msg.rssBytes > this.maxRssBytes) return 'max_rss';
    if (this.sandbox && msg.cpuMs !== undefined && msg.cpuMs > this.cpuRecycleMs) return 'cpu_budget';
    return undefined;
  }

  /** Ends a child that holds no job: asks it to exit (one-shot children exit by themselves), kills it if slow. */
  private retire(child: Child, reason: RecycleReason, rssBytes?: number): void {
    if (child.state === 'retiring' || child.state === 'dead') return;
    const wasStarting = child.state === 'starting';
    child.state = 'retiring';
    child.expectedExit = true;
    clearTimeout(child.startTimer);
    if (reason !== 'close') this.counters.recycled++;
    if (child.pid !== undefined)
      this.emit({ type: 'recycle', pid: child.pid, reason, jobs: child.jobs, rssBytes });
    if (wasStarting) {
      // It may not listen for messages yet, and it holds nothing worth a graceful exit.
      this.kill(child);
      return;
    }
    if (reason !== 'one_shot') {
      try {
        child.proc.send({ type: 'exit' } satisfies ParentMessage);
      } catch {
        // why: the channel is already closed; the kill below ends it.
      }
    }
    child.killTimer = setTimeout(() => this.kill(child), RETIRE_GRACE_MS);
    child.killTimer.unref();
  }

  private kill(child: Child, reason?: RecycleReason): void {
    if (child.state === 'dead') return;
    if (reason && child.state !== 'retiring' && child.pid !== undefined) {
      this.emit({ type: 'recycle', pid: child.pid, reason, jobs: child.jobs });
    }
    child.state = 'retiring';
    child.expectedExit = true;
    clearTimeout(child.startTimer);
    if (this.sandbox?.level === 'namespaced' && child.sandboxPid === undefined) {
      // bubblewrap killed before it has told its sandbox's pid may leave the sandbox blocked mid-setup forever
      // (waiting for its user namespace map): wait for the pid (milliseconds), then kill both.
      child.pendingKill = setTimeout(() => child.proc.kill('SIGKILL'), SANDBOX_INFO_WAIT_MS);
      child.pendingKill.unref();
      return;
    }
    child.proc.kill('SIGKILL');
    killSandbox(child);
  }

  /** Reads bubblewrap's `{"child-pid": N}`; a child already being killed has its sandbox killed at once. */
  private watchSandboxInfo(child: Child): void {
    const info = child.proc.stdio[SANDBOX_INFO_FD] as NodeJS.ReadableStream | null | undefined;
    if (!info) return;
    let text = '';
    info.setEncoding('utf8');
    info.on('data', (chunk: string) => {
      text += chunk;
      const match = /"child-pid"\s*:\s*(\d+)/.exec(text);
      if (!match || child.sandboxPid !== undefined) return;
      child.sandboxPid = Number(match[1]);
      if (child.pendingKill) {
        clearTimeout(child.pendingKill);
        child.pendingKill = undefined;
        killSandbox(child);
        child.proc.kill('SIGKILL');
      }
    });
    info.on('error', () => undefined);
  }

  private onExit(child: Child, exitCode: number | null, signal: NodeJS.Signals | null): void {
    if (child.state === 'dead') return;
    child.state = 'dead';
    clearTimeout(child.startTimer);
    clearTimeout(child.killTimer);
    clearTimeout(child.pendingKill);
    this.children.delete(child);
    slotsInUse.delete(child.slot);
    // Our end of the channel: a process that inherited the other end must not keep the worker's loop alive.
    if (child.proc.connected) child.proc.disconnect();
    if (child.job) {
      const limit = this.sandbox ? limitFromExit(exitCode, signal) : undefined;
      if (!limit) this.counters.crashed++;
      const message = limit
        ? `the child ran into its ${limit === 'cpu_exceeded' ? 'CPU time' : 'memory'} limit`
        : 'the child process died during the job';
      this.failChildJob(
        child,
        new IsolationError(limit ?? 'child_crashed', message, { pid: child.pid, exitCode, signal }),
      );
    }
    this.emit({ type: 'exit', pid: child.pid, exitCode, signal, expected: child.expectedExit });
    if (!child.wasReady && (child.startTimedOut || !child.expectedExit)) this.onStartFailure();
    this.pump();
  }

  private onStartFailure(): void {
    if (this.closing) return;
    this.startFailures++;
    if (this.startFailures >= START_FAILURES_BEFORE_REJECT) {
      // Children keep dying before ready: fail waiting jobs instead of holding them forever, and back off.
      for (const job of this.queue.splice(0)) {
        this.fail(job, new IsolationError('child_start_failed', 'child processes fail to start'));
      }
    }
    const delay = Math.min(5000, 50 * 2 ** this.startFailures);
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      this.pump();
    }, delay);
    this.backoffTimer.unref();
  }

  // ---- settling ----

  /** Detaches and fails the job a child is running (timeout, abort, crash, close). */
  private failChildJob(child: Child, err: IsolationError): void {
    const job = child.job;
    if (!job) return;
    child.job = undefined;
    this.fail(job, err);
  }

  private fail(job: Job, err: IsolationError): void {
    this.counters.failed++;
    this.settle(job, err.code, () => job.reject(err));
  }

  private settle(job: Job, outcome: 'ok' | IsolationErrorCode, finish: () => void): void {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.timer);
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    const child = job.child;
    job.input = undefined;
    if (child?.pid !== undefined && job.startedAt !== undefined) {
      this.emit({
        type: 'job',
        pid: child.pid,
        task: job.task,
        outcome,
        durationMs: performance.now() - job.startedAt,
      });
    }
    job.child = undefined;
    finish();
  }

  // ---- helpers ----

  private count(state: ChildState): number {
    let n = 0;
    for (const c of this.children) if (c.state === state) n++;
    return n;
  }

  /** The lowest slot no live child of any pool of this process holds (a slot is a uid when root). */
  private freeSlot(): number {
    let slot = 0;
    while (slotsInUse.has(slot)) slot++;
    slotsInUse.add(slot);
    return slot;
  }

  private firstIdle(): Child | undefined {
    for (const c of this.children) if (c.state === 'idle') return c;
    return undefined;
  }

  private until(predicate: () => boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const check = (): void => {
        if (predicate()) {
          this.waiters.delete(check);
          resolve();
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }

  private emit(event: ChildPoolEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // why: a metrics/log listener must never break job accounting.
    }
  }
}

function childError(msg: ChildMessage & { type: 'error' }, pid: number | undefined): IsolationError {
  if (msg.code === CHILD_CODES.unknownTask) return new IsolationError('unknown_task', msg.message, { pid });
  if (msg.code === CHILD_CODES.memoryExceeded)
    return new IsolationError('memory_exceeded', 'the job could not allocate memory within its limit', {
      pid,
    });
  return new IsolationError('task_failed', msg.message, { taskCode: msg.code, pid });
}

/** SIGKILLs a namespaced child's init (and so its whole pid namespace); harmless once it is gone. */
function killSandbox(child: Child): void {
  const pid = child.sandboxPid;
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // why: already gone (ESRCH), the usual case once bubblewrap has exited.
  }
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name}: must be a positive integer`);
  return value;
}

function nonNegativeInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name}: must be a non-negative integer`);
  return value;
}

function checkEnv(env: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  for (const [name, value] of Object.entries(env)) {
    if (FORBIDDEN_ENV.some((re) => re.test(name)))
      throw new RangeError(`env: ${name} must not reach a child`);
    if (typeof value !== 'string') throw new TypeError(`env: ${name} must be a string`);
  }
  return Object.freeze({ ...env });
}

/** The read-only paths that the sandbox binds inside its private /tmp (their real paths, as bound). */
function boundUnderTmp(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const real = realpathSync(path);
    if (real.startsWith('/tmp/')) out.push(real);
  }
  return out;
}
