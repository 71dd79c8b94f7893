import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertRow, RECOVERY_MS, runScenario } from './support/scenario';
import { sleep, waitFor } from './support/servers';
import { knob } from './support/stack';

/*
 * (6) The worker SIGTERMed while jobs are in flight (FAULTS_SIGTERMS rounds, default 3): it must stop taking
 * jobs, let the running ones end (or hand them back), exit, and leave no child behind; a new worker takes over.
 */
const ROUNDS = knob('FAULTS_SIGTERMS', 3);

describe('fault: worker SIGTERM', () => {
  it('SIGTERM with jobs in flight', { timeout: RECOVERY_MS + 600_000 }, async () => {
    const row = await runScenario(
      '(6) worker SIGTERM ×' + String(ROUNDS),
      { fileKiB: 64, opsPerSecond: 2, env: { WORKER_CONCURRENCY: '2' } },
      async ({ stack, notes }) => {
        const exits: string[] = [];
        let inFlight = 0;
        for (let i = 0; i < ROUNDS; i++) {
          await waitFor('a job in flight', 60_000, async () => {
            const [{ n }] = await stack.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM operations WHERE status = 'running'`,
            );
            return n > 0;
          });
          const [{ n }] = await stack.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM operations WHERE status = 'running'`,
          );
          inFlight += n;
          const { exitMs, forced } = await stack.stopWorker('SIGTERM');
          exits.push(`${(exitMs / 1000).toFixed(1)} s${forced ? ' (SIGKILLed after 60 s)' : ''}`);
          await stack.startWorker();
          await sleep(2000);
        }
        notes.push(`${inFlight} jobs running at the SIGTERMs; exits took ${exits.join(', ')}`);
        assert.ok(inFlight >= ROUNDS, 'each SIGTERM met a job in flight');
      },
    );
    assertRow(row);
  });
});
