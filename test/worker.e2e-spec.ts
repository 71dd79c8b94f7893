import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../scripts/lib/processes';

describe('worker process', () => {
  it('starts on its own, reports readiness, and exits cleanly on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [join(__dirname, '../apps/worker/src/main.js')], {
      env: { ...process.env, WORKER_HEALTH_PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let ready:
        { status: string; checks: Record<string, { status: string }>; redisPersistence?: string } | undefined;
      // Up to 30 s: a loaded machine starts the worker's pool of children slowly. A not-ready answer waits too.
      const deadline = Date.now() + 30_000;
      while (!ready && Date.now() < deadline && child.exitCode === null) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
          if (res.status === 200) ready = (await res.json()) as typeof ready;
        } catch {
          // not listening yet
        }
        if (!ready) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(ready, `worker never became ready: ${stderr}`);
      assert.deepEqual(
        Object.fromEntries(Object.entries(ready.checks).map(([name, c]) => [name, c.status])),
        { database: 'up', redis: 'up', chain: 'up', keyManager: 'up', queue: 'up' },
      );
      assert.ok(['aof', 'rdb', 'none', 'unknown'].includes(ready.redisPersistence ?? ''));
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
      assert.match(await metrics.text(), /hearth_worker_children_total\{event="spawned"\} \d+/);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses to start with a bad setting, naming it', async () => {
    const child = spawn(process.execPath, [join(__dirname, '../apps/worker/src/main.js')], {
      env: { ...process.env, WORKER_CONCURRENCY: 'lots' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 78);
    assert.match(stderr, /WORKER_CONCURRENCY/);
  });
});
