import { describe, it } from 'node:test';
import { assertRow, RECOVERY_MS, runScenario } from './support/scenario';
import { sleep } from './support/servers';
import { knob } from './support/stack';

/*
 * (4) The chain black-holed (its node SIGSTOPped: connections open, nothing answers) for FAULTS_CHAIN_STOP_MS
 * (default 8 s) and resumed; then killed (SIGKILL: connections refused) for FAULTS_CHAIN_DOWN_MS (default 8 s)
 * and brought back with the same contract and grants. Operations that meet the outage must wait for the chain,
 * not end denied for good.
 */
const STOP_MS = knob('FAULTS_CHAIN_STOP_MS', 8000);
const DOWN_MS = knob('FAULTS_CHAIN_DOWN_MS', 8000);

describe('fault: chain black-holed and killed', () => {
  it(
    'the chain SIGSTOPped, resumed, then SIGKILLed and restarted',
    { timeout: RECOVERY_MS + 600_000 },
    async () => {
      const row = await runScenario('(4) chain SIGSTOP + SIGKILL', {}, async ({ stack }) => {
        stack.chain.pause();
        await sleep(STOP_MS);
        stack.chain.resume();
        await sleep(5000);
        await stack.chain.kill();
        await sleep(DOWN_MS);
        await stack.chain.restart();
      });
      assertRow(row);
    },
  );
});
