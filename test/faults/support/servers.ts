/**
 * Disposable real servers for the fault suite: Postgres, Redis, the dev chain and the fake AWS KMS, each a
 * process of its own on its own port and in its own temporary directory, which the suite may SIGKILL,
 * SIGSTOP and start again. The shared services (127.0.0.1:5432, :6379) are never touched.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import Redis from 'ioredis';
import { DEV_RELAYER_PRIVATE_KEY } from '@hearth/permissions';
import { deployContracts } from '../../../contracts/scripts/deploy';
import { type DevChain, startDevChain } from '../../../contracts/scripts/dev-chain';
import { DIST, freePort } from '../../../scripts/lib/processes';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it answers true, or throws naming what it waited for. */
export async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** A spawned server process with its output in a log file of the scenario's directory. */
export class ServerProcess {
  readonly exited: Promise<void>;
  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static spawn(
    name: string,
    command: string,
    args: string[],
    logFile: string,
    opts: { env?: NodeJS.ProcessEnv; detached?: boolean } = {},
  ): ServerProcess {
    const out = openSync(logFile, 'a');
    const child = spawn(command, args, {
      env: opts.env ?? process.env,
      stdio: ['ignore', out, out],
      detached: opts.detached,
    });
    closeSync(out);
    const proc = new ServerProcess(name, child);
    // A suite that dies must not leave its servers running.
    const onExit = (): void => proc.signal('SIGKILL');
    process.on('exit', onExit);
    void proc.exited.then(() => process.off('exit', onExit));
    return proc;
  }

  get pid(): number {
    return this.child.pid!;
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.alive()) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.alive()) return;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error(`no Postgres server binaries under ${root}`);
  return join(root, versions[0], 'bin');
}

/** Runs as the `postgres` account when we are root (Postgres refuses root); exec'd, so the pid is Postgres's. */
function asPostgres(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', command, ...args]];
}

/** A Postgres cluster of its own: initdb'd in a directory owned by `postgres`, trust auth, fsync off. */
export class DisposablePostgres {
  private proc?: ServerProcess;
  private constructor(
    private readonly bin: string,
    private readonly dataDir: string,
    private readonly logFile: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/hearth`;
  }

  static async create(dir: string): Promise<DisposablePostgres> {
    const bin = postgresBin();
    const root = join(dir, 'postgres');
    const dataDir = join(root, 'data');
    mkdirSync(root, { mode: 0o700 });
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(dir, uid, gid);
      chownSync(root, uid, gid);
    }
    const [cmd, args] = asPostgres(join(bin, 'initdb'), [
      '-D',
      dataDir,
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    execFileSync(cmd, args, { stdio: 'pipe' });
    const pg = new DisposablePostgres(bin, dataDir, join(root, 'postgres.log'), await freePort());
    await pg.start();
    return pg;
  }

  async start(): Promise<void> {
    const [cmd, args] = asPostgres(join(this.bin, 'postgres'), [
      '-D',
      this.dataDir,
      '-p',
      String(this.port),
      '-k',
      this.dataDir,
      '-c',
      'listen_addresses=127.0.0.1',
      // fsync off only: a crash of the server process loses nothing the OS has. synchronous_commit stays on, or
      // an immediate shutdown would drop commits already answered and an accepted operation would vanish.
      '-c',
      'fsync=off',
      '-c',
      'max_connections=200',
    ]);
    this.proc = ServerProcess.spawn('postgres', cmd, args, this.logFile);
    const proc = this.proc;
    await waitFor(`Postgres on port ${this.port}`, 30_000, async () => {
      if (!proc.alive()) throw new Error(`Postgres exited at start; see ${this.logFile}`);
      const client = new Client({
        connectionString: `postgres://postgres@127.0.0.1:${this.port}/postgres`,
        connectionTimeoutMillis: 1000,
      });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } finally {
        await client.end().catch(() => undefined);
      }
    });
  }

  /** Immediate shutdown (SIGQUIT to the postmaster): every connection drops, nothing is flushed politely. */
  async crash(): Promise<void> {
    const proc = this.proc;
    if (!proc?.alive()) return;
    proc.signal('SIGQUIT');
    const timer = setTimeout(() => proc.signal('SIGKILL'), 10_000);
    await proc.exited;
    clearTimeout(timer);
  }

  /** A client on the cluster's `hearth` database (for the suite's own counts). */
  async client(): Promise<Client> {
    const client = new Client({ connectionString: this.url });
    await client.connect();
    return client;
  }

  async stop(): Promise<void> {
    if (!this.proc?.alive()) return;
    this.proc.signal('SIGINT'); // fast shutdown
    const proc = this.proc;
    const timer = setTimeout(() => proc.signal('SIGKILL'), 10_000);
    await proc.exited;
    clearTimeout(timer);
  }
}

/** A Redis of its own that persists nothing: a restart starts it empty, as a lost Redis would be. */
export class DisposableRedis {
  private proc?: ServerProcess;
  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async create(dir: string): Promise<DisposableRedis> {
    const root = join(dir, 'redis');
    mkdirSync(root);
    const redis = new DisposableRedis(root, await freePort());
    await redis.start();
    return redis;
  }

  async start(): Promise<void> {
    this.proc = ServerProcess.spawn(
      'redis',
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
        '--protected-mode',
        'no',
        '--loglevel',
        'warning',
      ],
      join(this.dir, 'redis.log'),
    );
    const proc = this.proc;
    await waitFor(`Redis on port ${this.port}`, 15_000, async () => {
      if (!proc.alive()) throw new Error(`Redis exited at start; see ${this.dir}/redis.log`);
      const client = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => undefined); // why: refused until the server listens; connect() rejects anyway.
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } finally {
        client.disconnect();
      }
    });
  }

  async kill(): Promise<void> {
    if (!this.proc?.alive()) return;
    this.proc.signal('SIGKILL');
    await this.proc.exited;
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
  }
}

/** Something to do again, in order, on a chain started afresh (a grant relayed again). */
export type Replay = (rpcUrl: string) => Promise<void>;

/**
 * The dev chain (Hardhat node) as a process of the suite's own, behind a TCP relay on the port the apps are
 * given. The node keeps its state in memory, so a killed chain comes back as a fresh node, deployed again (same
 * deployer and nonce: same contract address) with what was registered by `onRestart` replayed (the grants, in
 * order, so they keep their ids) before the relay listens again: to the apps the chain was unreachable
 * (connection refused) and then came back as it was. `pause()` is a black hole: the node is SIGSTOPped, so
 * connections open and requests hang.
 */
export class DisposableChain {
  private chain!: DevChain;
  private readonly replays: Replay[] = [];
  private readonly relay: NetServer;
  private readonly sockets = new Set<Socket>();
  private constructor(
    readonly port: number,
    readonly address: `0x${string}`,
  ) {
    this.relay = createNetServer((client) => {
      const upstream = connect(this.upstreamPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
  }

  /** The URL the apps use (through the relay). */
  get rpcUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private get upstreamPort(): number {
    return Number(new URL(this.chain.rpcUrl).port);
  }

  static async create(): Promise<DisposableChain> {
    const chain = await startDevChain();
    try {
      const deployed = await deployContracts({
        rpcUrl: chain.rpcUrl,
        deployerPrivateKey: DEV_RELAYER_PRIVATE_KEY,
      });
      const handle = new DisposableChain(await freePort(), deployed.dataPermissions);
      handle.chain = chain;
      await handle.listen();
      return handle;
    } catch (err) {
      await chain.stop();
      throw err;
    }
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.relay.once('error', reject);
      this.relay.listen(this.port, '127.0.0.1', () => {
        this.relay.off('error', reject);
        resolve();
      });
    });
  }

  /** Registers what to do again, in order, on a restarted chain. */
  onRestart(replay: Replay): void {
    this.replays.push(replay);
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.chain.pid, signal);
    } catch {
      // why: already gone.
    }
  }

  pause(): void {
    this.signalGroup('SIGSTOP');
  }

  resume(): void {
    this.signalGroup('SIGCONT');
  }

  /** SIGKILL of the node; the relay stops listening and drops every connection (refused from now on). */
  async kill(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.relay.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
    this.signalGroup('SIGCONT');
    this.signalGroup('SIGKILL');
    await this.chain.stop();
  }

  /** A fresh node, the contract and the replays, then the relay listens again on the same port. */
  async restart(): Promise<void> {
    this.chain = await startDevChain();
    const deployed = await deployContracts({
      rpcUrl: this.chain.rpcUrl,
      deployerPrivateKey: DEV_RELAYER_PRIVATE_KEY,
    });
    if (deployed.dataPermissions !== this.address)
      throw new Error(`the restarted chain deployed at ${deployed.dataPermissions}, not ${this.address}`);
    for (const replay of this.replays) await replay(this.chain.rpcUrl);
    await this.listen();
  }

  async stop(): Promise<void> {
    if (this.relay.listening) this.relay.close();
    for (const s of this.sockets) s.destroy();
    this.signalGroup('SIGCONT');
    await this.chain.stop();
  }
}

/** The fake AWS KMS (test/support/fake-kms.ts) as a process of its own, its keys in a state file. */
export class FakeKmsServer {
  private proc?: ServerProcess;
  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async create(dir: string): Promise<FakeKmsServer> {
    const root = join(dir, 'kms');
    mkdirSync(root);
    const kms = new FakeKmsServer(root, await freePort());
    await kms.start();
    return kms;
  }

  async start(): Promise<void> {
    this.proc = ServerProcess.spawn(
      'kms',
      process.execPath,
      [join(DIST, 'test/faults/support/fake-kms-main.js'), String(this.port), join(this.dir, 'state.json')],
      join(this.dir, 'kms.log'),
    );
    const proc = this.proc;
    await waitFor(`the fake KMS on port ${this.port}`, 15_000, async () => {
      if (!proc.alive()) throw new Error(`the fake KMS exited at start; see ${this.dir}/kms.log`);
      const res = await fetch(this.endpoint, { method: 'POST', signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return true;
    });
  }

  async kill(): Promise<void> {
    if (!this.proc?.alive()) return;
    this.proc.signal('SIGKILL');
    await this.proc.exited;
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
  }
}
