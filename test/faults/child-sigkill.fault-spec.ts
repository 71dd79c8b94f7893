import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertRow, RECOVERY_MS, runScenario } from './support/scenario';
import { sleep, waitFor } from './support/servers';
import { cpuTicks, descendants, knob } from './support/stack';

/*
 * (7) An isolated child SIGKILLed mid-job (FAULTS_CHILD_KILLS rounds, default 3): the busy child is found from
 * /proc (a descendant of the worker burning CPU while an operation runs). The attempt dies with it; the
 * operation must be retried and succeed once.
 */
const ROUNDS = knob('FAULTS_CHILD_KILLS', 3);

describe('fault: child SIGKILL', () => {
  it('one isolated child SIGKILLed mid-job', { timeout: RECOVERY_MS + 600_000 }, async () => {
    const row = await runScenario(
      '(7) child SIGKILL ×' + String(ROUNDS),
      { fileKiB: 64, opsPerSecond: 2, env: { WORKER_CONCURRENCY: '2' } },
      async ({ stack, notes }) => {
        let killed = 0;
        for (let i = 0; i < ROUNDS; i++) {
          let target: number | undefined;
          await waitFor('a child busy with a job', 60_000, async () => {
            const [{ n }] = await stack.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM operations WHERE status = 'running'`,
            );
            if (n === 0) return false;
            const children = descendants(stack.worker.proc.pid);
            const before = new Map(children.map((pid) => [pid, cpuTicks(pid)]));
            await sleep(30);
            const busiest = children
              .map((pid) => ({ pid, grew: cpuTicks(pid) - before.get(pid)! }))
              .sort((a, b) => b.grew - a.grew)[0];
            if (!busiest || busiest.grew < 2) return false;
            target = busiest.pid;
            return true;
          });
          process.kill(target!, 'SIGKILL');
          killed++;
          await sleep(3000);
        }
        notes.push(`${killed} busy children SIGKILLed`);
        assert.equal(killed, ROUNDS);
      },
    );
    assertRow(row);
  });
});
