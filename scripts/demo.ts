import { startStack } from './lib/stack';

/** `npm run demo`: the main path on embedded defaults, printing each step. */
async function main(): Promise<void> {
  const step = (n: number, text: string) => process.stdout.write(`\n[${n}] ${text}\n`);
  const show = (value: unknown) => process.stdout.write(`    ${JSON.stringify(value)}\n`);
  step(1, 'starting Postgres migrations, dev chain, gateway and worker on embedded defaults');
  const stack = await startStack({ quiet: true, log: (l) => process.stdout.write(`    ${l}\n`) });
  try {
    step(2, `gateway health (${stack.gatewayUrl}/health/ready)`);
    show(await (await fetch(`${stack.gatewayUrl}/health/ready`)).json());
    step(3, `worker health (${stack.workerHealthUrl}/health/ready)`);
    show(await (await fetch(`${stack.workerHealthUrl}/health/ready`)).json());
  } finally {
    step(9, 'stopping everything');
    await stack.stop();
  }
  process.stdout.write('\ndemo finished\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
