import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ChildPool } from './child-pool';
import { isIsolationError, IsolationError } from './isolation-error';
import { isAlive, testPool } from './spec-helpers';

const pools: ChildPool[] = [];
function track<T extends { pool: ChildPool }>(made: T): T {
  pools.push(made.pool);
  return made;
}
after(async () => {
  await Promise.all(pools.map((p) => p.close(1000)));
});

describe('ChildPool limits', () => {
  it('kills a job past jobTimeoutMs with job_timeout, and recovers', async () => {
    const { pool, events } = track(testPool({ jobTimeoutMs: 200 }));
    const pid = await pool.run<undefined, number>('pid');
    const started = performance.now();
    await assert.rejects(pool.run('sleep', { ms: 10_000 }), (e) => {
      assert.ok(e instanceof IsolationError);
      assert.equal(e.code, 'job_timeout');
      assert.equal(e.retryable, false);
      return true;
    });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 190 && elapsed < 2000, `elapsed ${elapsed}`);
    const exit = await events.exitOf(pid);
    assert.ok(exit.type === 'exit' && exit.signal === 'SIGKILL');
    const next = await pool.run<undefined, number>('pid');
    assert.notEqual(next, pid);
    assert.equal(pool.stats().timedOut, 1);
  });

  it('fails the job of a child killed from outside with child_crashed, and recovers', async () => {
    const { pool } = track(testPool());
    const pid = await pool.run<undefined, number>('pid');
    const job = pool.run('sleep', { ms: 10_000 });
    process.kill(pid, 'SIGKILL');
    await assert.rejects(job, (e) => {
      assert.ok(e instanceof IsolationError);
      assert.equal(e.code, 'child_crashed');
      assert.equal(e.signal, 'SIGKILL');
      assert.equal(e.retryable, true);
      return true;
    });
    assert.notEqual(await pool.run('pid'), pid);
    assert.equal(pool.stats().crashed, 1);
  });

  it('applies the V8 memory cap: a job past it crashes its child', async () => {
    const { pool } = track(testPool({ memoryCapMb: 64 }));
    const info = await pool.run<undefined, { execArgv: string[]; heapSizeLimitMb: number }>('introspect');
    assert.deepEqual(info.execArgv, ['--max-old-space-size=64']);
    assert.ok(info.heapSizeLimitMb < 128, `heap limit ${info.heapSizeLimitMb}`);
    await assert.rejects(pool.run('alloc', { mib: 1024, heap: true }), (e) =>
      isIsolationError(e, 'child_crashed'),
    );
    assert.equal(await pool.run('noop'), null);
  });

  it('cancels a running job on abort by killing its child', async () => {
    const { pool, events } = track(testPool());
    const pid = await pool.run<undefined, number>('pid');
    const ac = new AbortController();
    const job = pool.run('sleep', { ms: 10_000 }, { signal: ac.signal });
    ac.abort();
    await assert.rejects(job, (e) => isIsolationError(e, 'job_aborted'));
    await events.exitOf(pid);
    assert.equal(isAlive(pid), false);
    assert.notEqual(await pool.run('pid'), pid);
  });

  it('cancels a queued job on abort without touching the running one', async () => {
    const { pool } = track(testPool());
    const ac = new AbortController();
    const running = pool.run('sleep', { ms: 200 });
    const queued = pool.run('pid', undefined, { signal: ac.signal });
    ac.abort();
    await assert.rejects(queued, (e) => isIsolationError(e, 'job_aborted'));
    await running;
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(pool.run('pid', undefined, { signal: aborted.signal }), (e) =>
      isIsolationError(e, 'job_aborted'),
    );
  });

  it('fails jobs with child_start_failed when children cannot start', async () => {
    const { pool } = track(testPool({ childScript: '/nonexistent/child-main.js' }));
    await assert.rejects(pool.run('noop'), (e) => isIsolationError(e, 'child_start_failed'));
    await assert.rejects(pool.ready(), (e) => isIsolationError(e, 'child_start_failed'));
  });
});

describe('ChildPool environment', () => {
  it('gives the child only the env it was given, never the parent credentials', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      DATABASE_URL: 'postgres://user:secret@db/hearth',
      REDIS_URL: 'redis://secret@redis:6379',
      AWS_SECRET_ACCESS_KEY: 'aws-secret',
      NODE_OPTIONS: '--require /tmp/evil.js',
    });
    try {
      const { pool } = track(testPool({ env: { HEARTH_CHILD_VAR: '1' } }));
      const names = await pool.run<undefined, string[]>('env');
      assert.deepEqual(names, ['HEARTH_CHILD_VAR']);
      const info = await pool.run<undefined, { execArgv: string[] }>('introspect');
      assert.ok(!info.execArgv.some((a) => a.includes('require')));
    } finally {
      for (const name of ['DATABASE_URL', 'REDIS_URL', 'AWS_SECRET_ACCESS_KEY', 'NODE_OPTIONS']) {
        if (name in saved) process.env[name] = saved[name];
        else delete process.env[name];
      }
    }
  });

  it('refuses to pass credentials to a child even on purpose', () => {
    for (const name of [
      'DATABASE_URL',
      'REDIS_URL',
      'AWS_ACCESS_KEY_ID',
      'HEARTH_MASTER_KEY',
      'NODE_OPTIONS',
    ]) {
      assert.throws(() => new ChildPool({ size: 1, env: { [name]: 'x' } }), /must not reach a child/);
    }
  });
});

describe('ChildPool job data', () => {
  it('moves Buffers both ways intact', async () => {
    const { pool } = track(testPool());
    const input = { data: Buffer.from([0, 1, 2, 255]), view: new Uint8Array([9, 8]), text: 'x' };
    const output = await pool.run<typeof input, typeof input>('echo', input);
    assert.ok(Buffer.isBuffer(output.data));
    assert.deepEqual([...output.data], [0, 1, 2, 255]);
    assert.deepEqual([...output.view], [9, 8]);
    assert.deepEqual([...input.data], [0, 1, 2, 255], 'the parent copy is untouched');
  });

  it('zeroes what a job tracked, and its input buffers, when it succeeds or fails', async () => {
    const { pool } = track(testPool());
    const ok = await pool.run<{ secret: Buffer }, { secretLength: number; keyNonZero: boolean }>(
      'scope-probe',
      {
        secret: Buffer.from('top secret plaintext'),
      },
    );
    assert.deepEqual(ok, { secretLength: 20, keyNonZero: true });
    assert.deepEqual(await pool.run('scope-probe-check'), { held: 2, allZero: true });

    await assert.rejects(
      pool.run('scope-probe', { secret: Buffer.from('another secret'), fail: true }),
      (e) => {
        assert.ok(isIsolationError(e, 'task_failed'));
        assert.equal(e.taskCode, 'probe_failed');
        return true;
      },
    );
    assert.deepEqual(await pool.run('scope-probe-check'), { held: 2, allZero: true });
  });

  it('reports task errors by code, and never an unexpected error message (it may quote data)', async () => {
    const { pool } = track(testPool());
    await assert.rejects(pool.run('fail', { code: 'denied', message: 'grant revoked' }), (e) => {
      assert.ok(isIsolationError(e, 'task_failed'));
      assert.equal(e.taskCode, 'denied');
      assert.equal(e.message, 'grant revoked');
      return true;
    });
    await assert.rejects(pool.run('throw', { secret: 'PLAINTEXT-123' }), (e) => {
      assert.ok(isIsolationError(e, 'task_failed'));
      assert.equal(e.taskCode, 'task_error');
      assert.ok(!e.message.includes('PLAINTEXT-123'));
      assert.equal(e.stack?.includes('PLAINTEXT-123'), false);
      return true;
    });
    await assert.rejects(pool.run('missing-task'), (e) => isIsolationError(e, 'unknown_task'));
    await assert.rejects(pool.run('echo', { f: () => 1 }), (e) => isIsolationError(e, 'invalid_input'));
    assert.equal(await pool.run('noop'), null, 'the child survives all of that');
  });

  it('does not register test tasks unless asked to', async () => {
    const { pool } = track(testPool({ allowTestTasks: false }));
    assert.equal(await pool.run('noop'), null);
    for (const task of ['echo', 'env', 'sleep', 'alloc']) {
      await assert.rejects(pool.run(task, {}), (e) => isIsolationError(e, 'unknown_task'));
    }
  });
});
