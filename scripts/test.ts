import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runMigrations } from '@hearth/db';
import { checkServices, dropDatabase } from './lib/services';
import { DIST } from './lib/processes';
import { startChainForTests } from './lib/chain';
import { formatFaultTable, readFaultRows } from './lib/fault-table';

/**
 * The test command. Five tiers, told apart by file name:
 *   unit    `*.spec.ts` beside the code: no Postgres, Redis or chain;
 *   medium  `*.medium-spec.ts` beside the code: services and repositories on the run's real Postgres and Redis,
 *           the chain and KMS real or faked per test;
 *   e2e     `test/**\/*.e2e-spec.ts`: whole apps over HTTP;
 *   compose `test/compose/**\/*.compose-spec.ts`: the docker-compose deployment built and run in Docker (skipped
 *           with a message where no Docker engine answers, except in CI); one file at a time;
 *   faults  `test/faults/**\/*.fault-spec.ts`: whole stacks on disposable servers each file starts itself,
 *           with faults injected; one file at a time, and their table printed at the end.
 * `node dist/scripts/test.js [--tier=unit|medium|e2e|compose|faults]... [path-substring]...` runs the named tiers
 * (all when none is named), with a fresh database (dropped after) and the dev chain with contracts deployed (unless
 * CHAIN_RPC_URL is given) whenever a medium or e2e file is among them. The compose and faults tiers never use those.
 */
const TIERS = ['unit', 'medium', 'e2e', 'compose', 'faults'] as const;
type Tier = (typeof TIERS)[number];

function tierOf(file: string): Tier | null {
  if (file.endsWith('.fault-spec.js')) return 'faults';
  if (file.endsWith('.compose-spec.js')) return 'compose';
  if (file.endsWith('.e2e-spec.js')) return 'e2e';
  if (file.endsWith('.medium-spec.js')) return 'medium';
  if (file.endsWith('.spec.js')) return 'unit';
  return null;
}

function findTests(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (entry === 'node_modules') continue;
    if (statSync(full).isDirectory()) findTests(full, out);
    else if (tierOf(entry)) out.push(full);
  }
  return out;
}

/**
 * Files that say `test:slow` in a comment start first, so that the tier's other files run beside them instead of
 * after them (the runner keeps `TEST_CONCURRENCY` files going at once, in the order given).
 */
function startSlowFirst(files: string[]): string[] {
  const slow = new Set(files.filter((f) => readFileSync(f, 'utf8').includes('test:slow')));
  return [...files.filter((f) => slow.has(f)), ...files.filter((f) => !slow.has(f))];
}

function parseArgs(argv: string[]): { tiers: Set<Tier>; filters: string[] } {
  const tiers = new Set<Tier>();
  const filters: string[] = [];
  for (const arg of argv) {
    const match = /^--tier=(.+)$/.exec(arg);
    if (!match) {
      filters.push(arg);
      continue;
    }
    for (const name of match[1].split(',')) {
      if (!(TIERS as readonly string[]).includes(name)) {
        process.stderr.write(`unknown tier "${name}" (one of ${TIERS.join(', ')})\n`);
        process.exit(2);
      }
      tiers.add(name as Tier);
    }
  }
  return { tiers: tiers.size ? tiers : new Set(TIERS), filters };
}

function runNodeTests(files: string[], env: NodeJS.ProcessEnv, concurrency: string): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--test',
        '--test-reporter=spec',
        `--test-concurrency=${concurrency}`,
        ...files.map((f) => relative(process.cwd(), f)),
      ],
      { env, stdio: 'inherit' },
    );
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<void> {
  const { tiers, filters } = parseArgs(process.argv.slice(2));
  const files = startSlowFirst(
    findTests(DIST)
      .filter((f) => tiers.has(tierOf(f)!))
      .filter((f) => filters.length === 0 || filters.some((flt) => f.includes(flt)))
      .sort(),
  );
  const label = [...tiers].join(', ');
  const started = Date.now();
  const home = mkdtempSync(join(tmpdir(), 'hearth-test-'));
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    HEARTH_HOME: home,
  };
  let exitCode = 1;
  try {
    const byTier = TIERS.filter((t) => tiers.has(t) && t !== 'faults' && t !== 'compose').map((tier) => ({
      tier,
      files: files.filter((f) => tierOf(f) === tier),
    }));
    const runTier = async (tier: Tier, tierFiles: string[], env: NodeJS.ProcessEnv): Promise<number> => {
      const tierStarted = Date.now();
      process.stdout.write(`running ${tierFiles.length} ${tier} test files\n`);
      // Fault files one at a time: a scenario beside another on a small machine is slowed enough to fail for load
      // instead of its fault. FAULTS_CONCURRENCY=2 runs the long worker-kill one (test:slow, first) beside the rest.
      const concurrency =
        tier === 'faults'
          ? (process.env.FAULTS_CONCURRENCY ?? '1')
          : tier === 'compose'
            ? '1'
            : (process.env.TEST_CONCURRENCY ?? '2');
      const tierCode = await runNodeTests(tierFiles, env, concurrency);
      process.stdout.write(`${tier} tier: ${((Date.now() - tierStarted) / 1000).toFixed(1)} s\n`);
      return tierCode;
    };
    const runTiers = async (vars: Record<string, string>): Promise<number> => {
      let code = 0;
      // One tier after another, so each prints its own time.
      for (const { tier, files: tierFiles } of byTier) {
        if (!tierFiles.length) continue;
        const tierCode = await runTier(tier, tierFiles, { ...baseEnv, ...vars });
        code ||= tierCode;
      }
      return code;
    };
    const serviceFiles = files.filter((f) => tierOf(f) === 'medium' || tierOf(f) === 'e2e');
    exitCode = !serviceFiles.length
      ? await runTiers({})
      : await withServices(home, async (env) => {
          process.stdout.write(`test database ${env.databaseName}\n`);
          return runTiers(env.vars);
        });
    // After e2e, and outside the run's shared services: the compose stack runs in containers of its own.
    const composeFiles = files.filter((f) => tierOf(f) === 'compose');
    if (composeFiles.length) {
      // Run even after a failure above (a plain `||= await` would skip it): every tier reports.
      const composeExit = await runTier('compose', composeFiles, baseEnv);
      exitCode ||= composeExit;
    }
    // Then the faults: each fault file starts disposable servers of its own.
    const faultFiles = files.filter((f) => tierOf(f) === 'faults');
    if (faultFiles.length) {
      const tableFile = join(home, 'faults-table.jsonl');
      const faultsCode = await runTier('faults', faultFiles, { ...baseEnv, FAULTS_TABLE_FILE: tableFile });
      exitCode ||= faultsCode;
      const rows = readFaultRows(tableFile).sort((a, b) => a.scenario.localeCompare(b.scenario));
      if (rows.length) process.stdout.write(`\nfault suite:\n${formatFaultTable(rows)}\n`);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  process.stdout.write(`all (${label}): ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  process.exit(exitCode);
}

/** A fresh database and the dev chain for the tiers that talk to them; both go when the run ends. */
async function withServices(
  home: string,
  run: (env: { databaseName: string; vars: Record<string, string> }) => Promise<number>,
): Promise<number> {
  const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  await checkServices(baseUrl, redisUrl);
  const dbUrl = new URL(baseUrl);
  dbUrl.pathname = `/hearth_test_${Date.now()}_${process.pid}`;
  const databaseUrl = dbUrl.toString();
  const chain = await startChainForTests(home);
  try {
    await runMigrations(databaseUrl);
    return await run({
      databaseName: dbUrl.pathname.slice(1),
      vars: {
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: `hearth-test-${process.pid}`,
        // Every test file signs in from 127.0.0.1 and many make servers: the suite runs without owner limits;
        // test/limits.e2e-spec.ts sets its own.
        AUTH_RATE_PER_MINUTE_PER_IP: '1000000',
        AUTH_NONCES_PER_MINUTE: '1000000',
        SESSION_RATE_PER_MINUTE: '1000000',
        QUOTA_SERVERS_PER_ACCOUNT: '1000000',
        QUOTA_COLLECTIVES_PER_ACCOUNT: '1000000',
        QUOTA_RELAYED_TX_PER_DAY: '1000000',
        ...chain.env,
      },
    });
  } finally {
    await chain.stop();
    await dropDatabase(databaseUrl).catch((err: unknown) =>
      process.stderr.write(`could not drop test database: ${String(err)}\n`),
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`test run failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
