import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { type HearthConfig, loadConfigOrExit } from '@hearth/config';
import { Logger } from 'nestjs-pino';
import { exitOnSignals } from '@hearth/logging';
import { WorkerModule } from './worker.module';

/** The worker is a Nest application context: no HTTP server of its own besides the health port. */
export async function createWorker(config: HearthConfig): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  await app.init();
  return app;
}

if (require.main === module) {
  const starting = createWorker(loadConfigOrExit());
  // Handled from the start: the health port answers while start-up hooks still run (children spawning), and a
  // SIGTERM then must wait for the start and close cleanly, not kill the process.
  exitOnSignals(async () => (await starting).close());
  starting.catch((err: unknown) => {
    process.stderr.write(`worker failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
