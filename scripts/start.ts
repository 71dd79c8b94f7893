import { startStack } from './lib/stack';

/** `npm start`: the whole stack in the foreground until SIGINT/SIGTERM, then everything it started stops. */
async function main(): Promise<void> {
  const log = (line: string) => process.stdout.write(`[hearth] ${line}\n`);
  const stack = await startStack({ log });
  log(`gateway  ${stack.gatewayUrl}  (API docs at ${stack.gatewayUrl}/docs)`);
  log(`worker   ${stack.workerHealthUrl}/health/ready`);
  log('press Ctrl-C to stop');
  let stopping = false;
  const shutdown = (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log(`${why}: stopping`);
    void stack.stop().then(() => process.exit(code));
  };
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));
  for (const p of stack.procs) void p.exited.then((c) => shutdown(`${p.name} exited with code ${c}`, 1));
}

main().catch((err: unknown) => {
  process.stderr.write(`[hearth] could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
