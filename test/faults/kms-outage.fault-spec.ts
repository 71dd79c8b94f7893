import { describe, it } from 'node:test';
import { assertRow, RECOVERY_MS, runScenario } from './support/scenario';
import { sleep } from './support/servers';
import { knob } from './support/stack';

/*
 * (5) The KMS (KMS_PROVIDER=aws against the wire-level fake, a process of its own) SIGKILLed under load for
 * FAULTS_KMS_OUTAGE_MS (default 10 s), then started again with its keys. The load keeps reading succeeded
 * results (the gateway unwraps their keys), so a read that answers 500 instead of 503 shows.
 */
const OUTAGE_MS = knob('FAULTS_KMS_OUTAGE_MS', 10_000);

describe('fault: KMS outage', () => {
  it(`the KMS down for ${OUTAGE_MS / 1000} s under load`, { timeout: RECOVERY_MS + 600_000 }, async () => {
    const row = await runScenario(
      '(5) KMS down ' + String(OUTAGE_MS / 1000) + ' s',
      { kms: 'aws' },
      async ({ stack }) => {
        await stack.kms!.kill();
        await sleep(OUTAGE_MS);
        await stack.kms!.start();
      },
    );
    assertRow(row);
  });
});
