import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runMigrations } from '@hearth/db';
import { checkServices, dropDatabase } from './lib/services';
import { DIST } from './lib/processes';
import { startChainForTests } from './lib/chain';

/**
 * The test command: a fresh database (dropped after), the dev chain with contracts deployed (unless
 * CHAIN_RPC_URL is given), then every compiled test file under node's test runner.
 */
function findTests(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (entry === 'node_modules') continue;
    if (statSync(full).isDirectory()) findTests(full, out);
    else if (entry.endsWith('.spec.js') || entry.endsWith('.e2e-spec.js')) out.push(full);
  }
  return out;
}

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  await checkServices(baseUrl, redisUrl);

  const dbUrl = new URL(baseUrl);
  dbUrl.pathname = `/hearth_test_${Date.now()}_${process.pid}`;
  const databaseUrl = dbUrl.toString();
  const home = mkdtempSync(join(tmpdir(), 'hearth-test-'));
  let exitCode = 1;
  const chain = await startChainForTests(home);
  try {
    await runMigrations(databaseUrl);
    const files = findTests(DIST)
      .filter((f) => filters.length === 0 || filters.some((flt) => f.includes(flt)))
      .sort();
    process.stdout.write(`running ${files.length} test files against ${dbUrl.pathname.slice(1)}\n`);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      HEARTH_HOME: home,
      QUEUE_PREFIX: `hearth-test-${process.pid}`,
      ...chain.env,
    };
    exitCode = await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          '--test',
          '--test-reporter=spec',
          `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
          ...files.map((f) => relative(process.cwd(), f)),
        ],
        { env, stdio: 'inherit' },
      );
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await chain.stop();
    await dropDatabase(databaseUrl).catch((err: unknown) =>
      process.stderr.write(`could not drop test database: ${String(err)}\n`),
    );
    rmSync(home, { recursive: true, force: true });
  }
  process.exit(exitCode);
}

main().catch((err: unknown) => {
  process.stderr.write(`test run failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
