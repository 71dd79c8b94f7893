import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigrations } from '@hearth/db';
import { startChainForTests } from '../../scripts/lib/chain';
import { checkServices, dropDatabase } from '../../scripts/lib/services';

// why: standalone bench scripts, not app code; they take the same variables the apps get through libs/config.
export const BASE_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The 1 KiB text the pipeline benches run `stats` over. */
export const NOTE_1KIB = 'The walk by the river was quiet. I read, cooked and called my sister. '
  .repeat(16)
  .slice(0, 1024);

/** The worker's steps as an operation's `timings` name them (ms), in pipeline order. */
export const WORKER_STEPS = [
  'queueWaitMs',
  'loadMs',
  'chainMs',
  'kmsMs',
  'decryptMs',
  'engineMs',
  'sealMs',
  'childOverheadMs',
] as const;

export interface BenchStack {
  databaseUrl: string;
  home: string;
  /** What a gateway and a worker of this bench run with (fresh database, dev chain, own queue prefix). */
  overrides: Record<string, string>;
  /** Stops the chain, drops the database and removes the home directory (the apps are the caller's). */
  stop(): Promise<void>;
}

/**
 * A fresh, migrated database, a dev chain with the contracts deployed and a home directory for one bench run, on
 * the machine's running Postgres and Redis; `name` tells its database and queue apart.
 */
export async function startBenchStack(name: string): Promise<BenchStack> {
  await checkServices(BASE_DATABASE_URL, REDIS_URL);
  const dbUrl = new URL(BASE_DATABASE_URL);
  dbUrl.pathname = `/hearth_bench_${name}_${Date.now()}_${process.pid}`;
  const databaseUrl = dbUrl.toString();
  const home = mkdtempSync(join(tmpdir(), `hearth-bench-${name}-`));
  const chain = await startChainForTests(home);
  const stop = async (): Promise<void> => {
    await chain.stop();
    await dropDatabase(databaseUrl).catch((err: unknown) =>
      process.stderr.write(`could not drop the bench database: ${String(err)}\n`),
    );
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await runMigrations(databaseUrl);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    databaseUrl,
    home,
    overrides: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      HEARTH_HOME: home,
      QUEUE_PREFIX: `hearth-bench-${name}-${process.pid}`,
      ...chain.env,
    },
    stop,
  };
}
