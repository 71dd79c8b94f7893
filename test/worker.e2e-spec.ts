import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../scripts/lib/processes';

/** Live (not zombie) direct children of a process, from /proc. */
function childPids(ppid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid && fields[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // why: the process ended while we listed /proc.
    }
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return existsSync(`/proc/${pid}`) && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('worker process', () => {
  it('leaves no isolated child behind when it is SIGKILLed, even children busy starting up', async () => {
    const port = await freePort();
    const worker = spawn(process.execPath, [join(__dirname, '../apps/worker/src/main.js')], {
      env: { ...process.env, WORKER_HEALTH_PORT: String(port), LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '3' },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    try {
      // Children warming up run long synchronous steps (modules, models): their event loop cannot notice
      // the parent's death then, only the kernel's parent-death signal can.
      let children: number[] = [];
      const deadline = Date.now() + 30_000;
      while (children.length < 3 && Date.now() < deadline) {
        children = childPids(worker.pid!);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(children.length, 3, 'the worker started its children');
      await new Promise((r) => setTimeout(r, 300));
      worker.kill('SIGKILL');
      await exited;
      const killedAt = Date.now();
      while (children.some(alive) && Date.now() - killedAt < 1000)
        await new Promise((r) => setTimeout(r, 20));
      const left = children.filter(alive);
      for (const pid of left) process.kill(pid, 'SIGKILL');
      assert.deepEqual(left, [], `children alive 1 s after their worker was SIGKILLed`);
    } finally {
      if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    }
  });

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
      const metricsText = await metrics.text();
      assert.match(metricsText, /hearth_worker_children_total\{event="spawned"\} \d+/);
      // the queue's depth for autoscalers (deploy/k8s: KEDA's Prometheus trigger)
      assert.match(metricsText, /hearth_queue_jobs\{state="prioritized"\} \d+/);
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
