import { describe, it } from 'node:test';
import { assertRow, RECOVERY_MS, runScenario } from './support/scenario';
import { sleep } from './support/servers';
import { knob } from './support/stack';

/*
 * (3) Postgres stopped (immediate shutdown) under load for FAULTS_PG_OUTAGE_MS (default 10 s), then started
 * again on the same port and data directory. Requests meanwhile must be answered 503 with Retry-After; jobs that
 * hit the outage must retry until it is over.
 */
const OUTAGE_MS = knob('FAULTS_PG_OUTAGE_MS', 10_000);

describe('fault: Postgres outage', () => {
  it(`Postgres down for ${OUTAGE_MS / 1000} s under load`, { timeout: RECOVERY_MS + 600_000 }, async () => {
    const row = await runScenario(
      '(3) Postgres down ' + String(OUTAGE_MS / 1000) + ' s',
      {},
      async ({ stack }) => {
        await stack.pg.crash();
        await sleep(OUTAGE_MS);
        await stack.pg.start();
      },
    );
    assertRow(row);
  });
});
