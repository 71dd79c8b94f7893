/**
 * The wire-level fake AWS KMS as a process of its own, so a fault test can SIGKILL it and start it again:
 *   node dist/test/faults/support/fake-kms-main.js <port> <state-file>
 * Keys live in the state file, so the restarted fake still decrypts what it encrypted before.
 */
import { startFakeKms } from '../../support/fake-kms';

const [port, stateFile] = process.argv.slice(2);
startFakeKms({ port: Number(port), stateFile, region: 'eu-west-1' }).then(
  (kms) => process.stdout.write(`fake KMS listening at ${kms.endpoint}\n`),
  (err: unknown) => {
    process.stderr.write(`fake KMS failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
