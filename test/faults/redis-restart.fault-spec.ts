import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OperationQueue } from '@hearth/queue';
import { assertRow, RECOVERY_MS, runScenario } from './support/scenario';
import { sleep, waitFor } from './support/servers';
import { knob } from './support/stack';

/*
 * (2) Redis restarted without persistence while a backlog is queued: the worker is SIGSTOPped, a burst of
 * operations queues up behind the load, Redis is SIGKILLed and started again empty (FAULTS_REDIS_OUTAGE_MS,
 * default 3 s, later), then the worker goes on. The jobs are gone from Redis; the operations in Postgres are
 * not, and each must still end. The result-purge job scheduler must be back too.
 */
const BACKLOG = knob('FAULTS_REDIS_BACKLOG', 20);
const OUTAGE_MS = knob('FAULTS_REDIS_OUTAGE_MS', 3000);

describe('fault: Redis restart without persistence', () => {
  it('a backlog survives a Redis that comes back empty', { timeout: RECOVERY_MS + 600_000 }, async () => {
    let schedulers: string[] = [];
    const row = await runScenario('(2) Redis restart, backlog', {}, async ({ stack, load, notes }) => {
      stack.worker.proc.signal('SIGSTOP');
      await load.burst(BACKLOG);
      const [{ queued }] = await stack.query<{ queued: number }>(
        `SELECT count(*)::int AS queued FROM operations WHERE status = 'queued'`,
      );
      notes.push(`${queued} operations queued when Redis was killed`);
      assert.ok(queued >= BACKLOG / 2, `a backlog was queued (${queued})`);
      await stack.redis.kill();
      await sleep(OUTAGE_MS);
      await stack.redis.start();
      stack.worker.proc.signal('SIGCONT');
      await waitFor('the worker to be ready again', 60_000, async () => {
        const res = await fetch(`${stack.worker.healthUrl}/health/ready`);
        await res.arrayBuffer();
        return res.ok;
      }).catch(() => notes.push('the worker was not ready within 60 s of Redis coming back'));
      // Give the worker a moment to re-register what it registers at start, then look.
      await sleep(5000);
      const queue = new OperationQueue({ redisUrl: stack.redis.url, prefix: stack.queuePrefix });
      try {
        schedulers = (await queue.queue.getJobSchedulers()).map((s) => s.key);
      } finally {
        await queue.close();
      }
      notes.push(`job schedulers after the restart: ${schedulers.join(', ') || 'none'}`);
    });
    assertRow(row);
    assert.ok(
      schedulers.includes('purge-expired-results'),
      `the purge scheduler is registered again after Redis came back empty (${schedulers.join(', ') || 'none'})`,
    );
  });
});
