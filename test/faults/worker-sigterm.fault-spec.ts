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
        let met = 0;
        let signals = 0;
        // why: operations take tens of milliseconds, so the signal goes out as soon as one is seen running and
        // the round only counts when that operation was indeed still unfinished when the signal was sent.
        while (met < ROUNDS) {
          assert.ok(signals < ROUNDS * 4, `only ${met} of ${signals} SIGTERMs met a job in flight`);
          let running: string[] = [];
          await waitFor('a job in flight', 60_000, async () => {
            running = (
              await stack.query<{ id: string }>(`SELECT id FROM operations WHERE status = 'running'`)
            ).map(({ id }) => id);
            return running.length > 0;
          });
          const signalledAt = new Date();
          const stopping = stack.stopWorker('SIGTERM');
          signals++;
          const { exitMs, forced } = await stopping;
          const [{ n }] = await stack.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM operations
              WHERE id = ANY($1) AND (finished_at IS NULL OR finished_at > $2)`,
            [running, signalledAt],
          );
          if (n > 0) met++;
          exits.push(`${(exitMs / 1000).toFixed(1)} s${forced ? ' (SIGKILLed after 60 s)' : ''}`);
          await stack.startWorker();
          await sleep(2000);
        }
        notes.push(`${met} of ${signals} SIGTERMs met a job in flight; exits took ${exits.join(', ')}`);
      },
    );
    assertRow(row);
  });
});
