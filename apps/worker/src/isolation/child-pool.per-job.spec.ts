import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ChildPool } from './child-pool';
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

describe('ChildPool per-job', () => {
  it('uses a fresh child for every job, each exiting after it, from pre-started spares', async () => {
    const { pool, events } = track(testPool({ mode: 'per-job', size: 2, spares: 2 }));
    await pool.ready();
    const spares = pool.stats().pids;
    assert.equal(pool.stats().children.idle, 2);
    const pids: number[] = [];
    for (let i = 0; i < 4; i++) pids.push(await pool.run<undefined, number>('pid'));
    assert.equal(new Set(pids).size, 4, 'every job got its own process');
    assert.ok(spares.includes(pids[0]), 'the first job took a warm spare');
    await Promise.all(pids.map((pid) => events.exitOf(pid)));
    assert.ok(pids.every((pid) => !isAlive(pid)));
    await pool.ready();
    assert.equal(pool.stats().children.idle, 2, 'spares are replenished');
  });

  it('runs concurrent jobs in separate fresh children', async () => {
    const { pool } = track(testPool({ mode: 'per-job', size: 3, spares: 1 }));
    const results = await Promise.all(
      Array.from({ length: 6 }, () => pool.run<{ ms: number }, SleepResult>('sleep', { ms: 80 })),
    );
    assert.equal(new Set(results.map((r) => r.pid)).size, 6);
    assertNoSharedChild(results);
  });
});
