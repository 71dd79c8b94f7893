import { describe, it } from 'node:test';
import { assertRow, RECOVERY_MS, runScenario } from './support/scenario';
import { sleep } from './support/servers';
import { knob } from './support/stack';

// test:slow
/*
 * (1) The worker SIGKILLed again and again under load (FAULTS_WORKER_KILLS, default 100, one every
 * FAULTS_KILL_MIN_MS–FAULTS_KILL_MAX_MS, default 3–8 s), restarted at once each time without waiting for it to be
 * ready. Jobs in flight lose their worker and their lock; none may be lost or run twice, at least 99% must
 * succeed, and no isolated child may outlive its worker by a second.
 */
const KILLS = knob('FAULTS_WORKER_KILLS', 100);
const MIN_MS = knob('FAULTS_KILL_MIN_MS', 3000);
const MAX_MS = knob('FAULTS_KILL_MAX_MS', 8000);

describe('fault: worker SIGKILL', () => {
  it(
    `${KILLS} SIGKILLs of the worker under load`,
    { timeout: KILLS * (MAX_MS + 10_000) + RECOVERY_MS + 300_000 },
    async () => {
      const row = await runScenario(
        '(1) worker SIGKILL ×' + String(KILLS),
        { opsPerSecond: 1, env: { JOB_LOCK_MS: '5000', WORKER_CONCURRENCY: '2' } },
        async ({ stack, notes }) => {
          let midJob = 0;
          for (let i = 0; i < KILLS; i++) {
            await sleep(MIN_MS + Math.random() * (MAX_MS - MIN_MS));
            const [{ n }] = await stack.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM operations WHERE status = 'running'`,
            );
            if (n > 0) midJob++;
            await stack.stopWorker('SIGKILL');
            await stack.startWorker(false);
          }
          await stack.waitReady(stack.worker);
          notes.push(
            `${KILLS} kills every ${MIN_MS / 1000}–${MAX_MS / 1000} s, ${midJob} with an operation running`,
          );
        },
      );
      assertRow(row, { minSucceeded: 0.99 });
    },
  );
});
