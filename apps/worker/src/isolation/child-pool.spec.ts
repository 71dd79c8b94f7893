import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ChildPool } from './child-pool';
import { isIsolationError } from './isolation-error';
import { isAlive, testPool, type SleepResult } from './spec-helpers';

const pools: ChildPool[] = [];
function track<T extends { pool: ChildPool }>(made: T): T {
  pools.push(made.pool);
  return made;
}
after(async () => {
  await Promise.all(pools.map((p) => p.close(1000)));
});

/** Jobs whose time intervals overlap must have run in different children. */
function assertNoSharedChild(results: SleepResult[]): void {
  for (const a of results) {
    for (const b of results) {
      if (a !== b && a.start < b.end && b.start < a.end)
        assert.notEqual(a.pid, b.pid, 'overlapping jobs shared a child');
    }
  }
}

describe('ChildPool pooled', () => {
  it('runs jobs on warm children and reuses them', async () => {
    const { pool } = track(testPool({ size: 2 }));
    await pool.ready();
    const warm = pool.stats().pids;
    assert.equal(warm.length, 2);
    const pids: number[] = [];
    for (let i = 0; i < 6; i++) pids.push(await pool.run<undefined, number>('pid'));
    assert.ok(
      pids.every((p) => warm.includes(p)),
      'jobs ran on the pre-started children',
    );
    assert.equal(new Set(pids).size, 1, 'sequential jobs reuse one warm child');
    assert.equal(pool.stats().spawned, 2);
    assert.equal(await pool.run('noop'), null);
  });

  it('never runs two concurrent jobs in one child, and queues beyond size', async () => {
    const { pool } = track(testPool({ size: 3 }));
    await pool.ready();
    const results = await Promise.all(
      Array.from({ length: 9 }, () => pool.run<{ ms: number }, SleepResult>('sleep', { ms: 120 })),
    );
    assertNoSharedChild(results);
    assert.equal(new Set(results.map((r) => r.pid)).size, 3);
    // 9 jobs of 120 ms on 3 children: at least three rounds, so the extra six waited in the queue.
    const span = Math.max(...results.map((r) => r.end)) - Math.min(...results.map((r) => r.start));
    assert.ok(span >= 3 * 120 - 10, `span ${span}`);
  });

  it('starts at most maxStarting children at once', async () => {
    const { pool, events } = track(testPool({ size: 4, maxStarting: 1 }));
    await pool.ready();
    let starting = 0;
    let peak = 0;
    for (const e of events.all) {
      if (e.type === 'spawn') peak = Math.max(peak, ++starting);
      if (e.type === 'ready') starting--;
    }
    assert.equal(peak, 1);
    assert.equal(pool.stats().children.idle, 4);
  });

  it('recycles a child after maxJobsPerChild jobs', async () => {
    const { pool, events } = track(testPool({ maxJobsPerChild: 3 }));
    const pids: number[] = [];
    for (let i = 0; i < 7; i++) pids.push(await pool.run<undefined, number>('pid'));
    const [a, b, c] = [pids[0], pids[3], pids[6]];
    assert.deepEqual(pids, [a, a, a, b, b, b, c]);
    assert.equal(new Set([a, b, c]).size, 3);
    await events.exitOf(a);
    assert.equal(isAlive(a), false);
    assert.ok(events.all.some((e) => e.type === 'recycle' && e.pid === a && e.reason === 'max_jobs'));
  });

  it('recycles a child whose RSS passed maxRssMb', async () => {
    const { pool, events } = track(testPool({ maxRssMb: 256 }));
    // A warm child (with the operation pipeline loaded) sits near 120 MB: well under the mark.
    const first = await pool.run<undefined, number>('pid');
    assert.equal(await pool.run('pid'), first, 'an idle child stays under the mark');
    await pool.run('alloc', { mib: 300, retain: true });
    const next = await pool.run<undefined, number>('pid');
    assert.notEqual(next, first);
    const recycle = await events.wait((e) => e.type === 'recycle' && e.pid === first);
    assert.ok(recycle.type === 'recycle' && recycle.reason === 'max_rss');
  });

  it('recycles a child whose job left a timer behind', async () => {
    const { pool, events } = track(testPool());
    const leaky = await pool.run<undefined, number>('leak-timer');
    assert.notEqual(await pool.run('pid'), leaky);
    assert.ok(
      events.all.some((e) => e.type === 'recycle' && e.pid === leaky && e.reason === 'leaked_handles'),
    );
  });
});

describe('ChildPool close', () => {
  it('waits for running jobs, rejects queued ones, then stops every child', async () => {
    const { pool, events } = testPool({ size: 1 });
    await pool.ready();
    const order: string[] = [];
    const running = pool.run<{ ms: number }, SleepResult>('sleep', { ms: 300 }).then((r) => {
      order.push('job');
      return r;
    });
    const queued = assert.rejects(pool.run('pid'), (e) => isIsolationError(e, 'pool_closed'));
    const closed = pool.close(5000).then(() => order.push('close'));
    await queued;
    await assert.rejects(pool.run('pid'), (e) => isIsolationError(e, 'pool_closed'));
    const result = await running;
    await closed;
    assert.deepEqual(order, ['job', 'close']);
    assert.ok(result.end - result.start >= 290);
    assert.equal(isAlive(result.pid), false);
    assert.equal(pool.stats().pids.length, 0);
    assert.ok(events.all.some((e) => e.type === 'exit' && e.pid === result.pid && e.expected));
  });

  it('kills jobs still running at the close timeout', async () => {
    const { pool } = testPool({ size: 2 });
    await pool.ready();
    const [pidA, pidB] = pool.stats().pids;
    const jobs = [pool.run('sleep', { ms: 10_000 }), pool.run('sleep', { ms: 10_000 })].map((job) =>
      assert.rejects(job, (e) => isIsolationError(e, 'pool_closed')),
    );
    const started = performance.now();
    await pool.close(150);
    assert.ok(performance.now() - started < 2000);
    await Promise.all(jobs);
    assert.equal(isAlive(pidA), false);
    assert.equal(isAlive(pidB), false);
  });
});
