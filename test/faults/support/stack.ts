/**
 * A whole Hearth stack on disposable servers: Postgres, Redis, the dev chain and (optionally) the fake AWS KMS
 * of its own, migrations, then the gateway and the worker as separate OS processes built from dist and
 * configured only by their environment, as compose runs them.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configVariables } from '@hearth/config';
import { runMigrations } from '@hearth/db';
import { DEV_RELAYER_PRIVATE_KEY } from '@hearth/permissions';
import type { Client } from 'pg';
import { DIST, freePort } from '../../../scripts/lib/processes';
import {
  DisposableChain,
  DisposablePostgres,
  DisposableRedis,
  FakeKmsServer,
  ServerProcess,
  sleep,
  waitFor,
} from './servers';

/** Harness knobs (test input, not application config): `FAULTS_*` in the environment. */
export function knob(name: string, fallback: number): number {
  // why process.env: the fault suite's own settings (counts, windows), read by the test process only.
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

export interface StackOptions {
  kms?: 'local' | 'aws';
  /** Extra settings for both apps (e.g. JOB_LOCK_MS). */
  env?: Record<string, string>;
}

/** Process ids of every descendant of `pid` (children, their children…), from /proc. */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state ppid …
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z') parentOf.set(Number(entry), Number(fields[1]));
    } catch {
      // why: the process ended while /proc was listed.
    }
  }
  const out: number[] = [];
  const walk = (parent: number): void => {
    for (const [child, ppid] of parentOf)
      if (ppid === parent) {
        out.push(child);
        walk(child);
      }
  };
  walk(pid);
  return out;
}

export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** CPU time (user + system, clock ticks) a process has used; -1 once it is gone. */
export function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return -1;
  }
}

export interface AppProcess {
  proc: ServerProcess;
  healthUrl: string;
}

export class FaultStack {
  readonly queuePrefix = 'hearth-faults';
  /** Child processes still alive 1 s after their worker died (each is then killed, to spare the machine). */
  orphans = 0;
  worker!: AppProcess;
  gateway!: AppProcess;
  private workers = 0;
  private readonly extraEnv: Record<string, string>;

  private constructor(
    readonly dir: string,
    readonly pg: DisposablePostgres,
    readonly redis: DisposableRedis,
    readonly chain: DisposableChain,
    readonly kms: FakeKmsServer | undefined,
    options: StackOptions,
  ) {
    this.extraEnv = options.env ?? {};
  }

  static async start(name: string, options: StackOptions = {}): Promise<FaultStack> {
    const dir = mkdtempSync(join(tmpdir(), `hearth-faults-${name}-`));
    const started: Array<{ stop(): Promise<void> }> = [];
    try {
      const pg = await DisposablePostgres.create(dir);
      started.push(pg);
      const redis = await DisposableRedis.create(dir);
      started.push(redis);
      const chain = await DisposableChain.create();
      started.push(chain);
      const kms = options.kms === 'aws' ? await FakeKmsServer.create(dir) : undefined;
      if (kms) started.push(kms);
      await runMigrations(pg.url);
      const stack = new FaultStack(dir, pg, redis, chain, kms, options);
      mkdirSync(join(dir, 'home'));
      stack.gateway = await stack.startApp('gateway');
      stack.worker = await stack.startWorker();
      return stack;
    } catch (err) {
      for (const s of started.reverse()) await s.stop().catch(() => undefined);
      throw err;
    }
  }

  get gatewayUrl(): string {
    return this.gateway.healthUrl;
  }

  /** The apps' environment: every Hearth variable from scratch, pointing at this stack's servers only. */
  private appEnv(port: number): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const { name } of configVariables()) delete env[name];
    const kms: Record<string, string> = this.kms
      ? {
          KMS_PROVIDER: 'aws',
          KMS_ENDPOINT: this.kms.endpoint,
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'fault-suite',
          AWS_SECRET_ACCESS_KEY: 'fault-suite-secret',
        }
      : { KMS_PROVIDER: 'local' };
    return {
      ...env,
      NODE_ENV: 'test',
      // why process.env: the suite's own log level for the apps it starts (their logs go to files).
      LOG_LEVEL: process.env.FAULTS_LOG_LEVEL ?? 'warn',
      HEARTH_HOME: join(this.dir, 'home'),
      HOST: '127.0.0.1',
      PORT: String(port),
      WORKER_HEALTH_PORT: String(port),
      DATABASE_URL: this.pg.url,
      REDIS_URL: this.redis.url,
      QUEUE_PREFIX: this.queuePrefix,
      CHAIN_RPC_URL: this.chain.rpcUrl,
      CHAIN_ID: '31337',
      DATA_PERMISSIONS_ADDRESS: this.chain.address,
      DATA_PERMISSIONS_FROM_BLOCK: '0',
      RELAYER_PRIVATE_KEY: DEV_RELAYER_PRIVATE_KEY,
      DEFAULT_RATE_PER_MINUTE: '100000',
      ...kms,
      ...this.extraEnv,
    };
  }

  private async startApp(app: 'gateway' | 'worker', wait = true): Promise<AppProcess> {
    const port = await freePort();
    const n = app === 'worker' ? ++this.workers : 1;
    const proc = ServerProcess.spawn(
      app === 'worker' ? `worker-${n}` : app,
      process.execPath,
      [join(DIST, `apps/${app}/src/main.js`)],
      join(this.dir, `${app}${app === 'worker' ? `-${n}` : ''}.log`),
      { env: this.appEnv(port) },
    );
    const url = `http://127.0.0.1:${port}`;
    if (wait) await this.waitReady({ proc, healthUrl: url });
    return { proc, healthUrl: url };
  }

  /** Waits for `/health/ready` of the app to answer 200 (throws if the app exits first). */
  async waitReady(app: AppProcess, timeoutMs = 120_000): Promise<void> {
    await waitFor(`${app.proc.name} to be ready`, timeoutMs, async () => {
      if (!app.proc.alive()) throw new Error(`${app.proc.name} exited; see ${this.dir}`);
      const res = await fetch(`${app.healthUrl}/health/ready`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status === 200;
    });
  }

  /** A new worker process (the previous one must be gone); `wait: false` returns as soon as it is spawned. */
  async startWorker(wait = true): Promise<AppProcess> {
    this.worker = await this.startApp('worker', wait);
    return this.worker;
  }

  /**
   * Signals the worker and waits for it to exit; then counts its children still alive 1 s later as orphans
   * (and kills them: 100 kills could otherwise leave hundreds of them running). Resolves to the exit time.
   */
  async stopWorker(
    signal: 'SIGKILL' | 'SIGTERM',
    exitTimeoutMs = 60_000,
  ): Promise<{ exitMs: number; forced: boolean }> {
    const { proc } = this.worker;
    const children = descendants(proc.pid);
    const started = Date.now();
    proc.signal(signal);
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      proc.signal('SIGKILL');
    }, exitTimeoutMs);
    await proc.exited;
    clearTimeout(timer);
    const exitMs = Date.now() - started;
    // Children the worker had at the signal, plus any it started while shutting down.
    await sleep(1000);
    const left = [...new Set([...children, ...descendants(proc.pid)])].filter(isAlive);
    this.orphans += left.length;
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // why: it ended meanwhile.
      }
    }
    return { exitMs, forced };
  }

  /** A fresh client on the stack's database (Postgres may have been restarted since the last one). */
  async db(): Promise<Client> {
    return this.pg.client();
  }

  async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = await this.db();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  async stop(): Promise<void> {
    for (const app of [this.worker, this.gateway]) {
      if (!app) continue;
      app.proc.signal('SIGCONT');
      for (const pid of descendants(app.proc.pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // why: already gone.
        }
      }
      app.proc.signal('SIGKILL');
      await app.proc.exited;
    }
    await this.kms?.stop();
    await this.chain.stop();
    await this.redis.stop();
    await this.pg.stop();
    // why process.env: keep the servers' and apps' logs for a look after a failed run.
    if (process.env.FAULTS_KEEP_DIR) process.stdout.write(`# fault scenario files kept in ${this.dir}\n`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}
