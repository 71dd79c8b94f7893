import { type ChildProcess, spawn } from 'node:child_process';
import Redis from 'ioredis';
import { freePort } from '../../scripts/lib/processes';

/**
 * A redis-server of the test's own, on its own port, keeping nothing on disk (`--save '' --appendonly no`), so
 * a test may stop and start it; the shared Redis is never touched.
 */
export interface DisposableRedis {
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function disposableRedis(): Promise<DisposableRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let proc: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    proc = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      for (let i = 0; ; i++) {
        try {
          await probe.connect();
          await probe.ping();
          return;
        } catch (err) {
          if (i > 100) throw err;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    } finally {
      probe.disconnect();
    }
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url, start, stop };
}
