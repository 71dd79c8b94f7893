/**
 * Pages: the first page of every list for one tenant, on a database where the tenant is alone against one where
 * other tenants hold 1,000,000 newer rows in every listed table (10 tenants in turn, and 10 accounts with
 * 1,000,000 servers and memberships for the server list; written with generate_series, then VACUUM ANALYZE). Both
 * databases are fresh and have the same tenant rows; the two are measured in alternating rounds (which goes first
 * alternates too), through the repositories. Prints p50 and p99 of each, their ratio, and the plan each page
 * runs beside the other tenants' rows (scans, buffers, rows read and dropped). Not a test.
 *
 *   npm run build && node dist/bench/pages.bench.js [calls=200] [rows=1000000]
 */
import { performance } from 'node:perf_hooks';
import {
  AccessLogRepository,
  ApiKeyRepository,
  FileRepository,
  MemberRepository,
  OperationRepository,
  runMigrations,
  ServerRepository,
  UsageRepository,
} from '@hearth/db';
import {
  captureStatements,
  describeScans,
  explain,
  fillOtherTenants,
  planBuffers,
  randomAddress,
  type RepositoryTesting,
  repositoryTesting,
  rowsRemoved,
  seedAccessLog,
  seedApiKey,
  type SeededServer,
  seedFile,
  seedMember,
  seedOperation,
  seedServer,
  seedUsage,
} from '../libs/db/src/testing';
import { dropDatabase } from '../scripts/lib/services';

const calls = Number(process.argv[2] ?? 200);
const rows = Number(process.argv[3] ?? 1_000_000);
const ROUNDS = 10;
const OTHER_TENANTS = 10;
const GOAL_MS = 5;

/** One database with tenant A: a collective with a few rows in every table, and a member of it. */
interface World {
  label: string;
  db: RepositoryTesting;
  a: SeededServer;
  key: string;
  member: string;
}

async function world(label: string, url: string): Promise<World> {
  await runMigrations(url);
  const db = await repositoryTesting(
    [
      AccessLogRepository,
      ApiKeyRepository,
      FileRepository,
      MemberRepository,
      OperationRepository,
      ServerRepository,
      UsageRepository,
    ],
    { DATABASE_URL: url },
  );
  const ds = db.dataSource;
  const a = await seedServer(ds, { kind: 'collective' });
  const member = randomAddress();
  const joined = await seedServer(ds, { kind: 'collective' });
  await seedMember(ds, joined.server.id, { address: a.account.address });
  await seedMember(ds, a.server.id, { address: member });
  const key = await seedApiKey(ds, a.server.id);
  for (let i = 0; i < 5; i++) {
    await seedMember(ds, a.server.id);
    await seedApiKey(ds, a.server.id);
    const file = await seedFile(ds, a.server.id, { contributorAddress: i % 2 ? member : undefined });
    const op = await seedOperation(ds, a.server.id, key.id, { status: i % 2 ? 'queued' : 'succeeded' });
    await seedAccessLog(ds, a.server.id, { fileIds: [file.id], operationId: op.id, outcome: 'succeeded' });
    await seedAccessLog(ds, a.server.id, { actor: i % 2 ? member : undefined });
    await seedUsage(ds, a.server.id, key.id, `2025-03-0${i + 1}`, {
      operations: 1,
      computeMs: 1,
      inputBytes: 1,
    });
  }
  return { label, db, a, key: key.id, member };
}

const lists: Array<{ name: string; page: (w: World) => Promise<unknown[]> }> = [
  { name: 'access log', page: (w) => w.db.get(AccessLogRepository).list(w.a.server.id, { limit: 50 }) },
  {
    name: 'access log, a member',
    page: (w) => w.db.get(AccessLogRepository).list(w.a.server.id, { limit: 50 }, w.member),
  },
  { name: 'files', page: (w) => w.db.get(FileRepository).listReady(w.a.server.id, { limit: 50 }) },
  {
    name: 'files, a member',
    page: (w) =>
      w.db.get(FileRepository).listReady(w.a.server.id, { limit: 50, contributorAddress: w.member }),
  },
  {
    name: 'operations of a key',
    page: (w) => w.db.get(OperationRepository).listForApiKey(w.a.server.id, w.key, { limit: 51 }),
  },
  {
    name: 'operations, one status',
    page: (w) =>
      w.db.get(OperationRepository).listForApiKey(w.a.server.id, w.key, { limit: 51, status: 'queued' }),
  },
  { name: 'API keys', page: (w) => w.db.get(ApiKeyRepository).list(w.a.server.id, { limit: 50 }) },
  { name: 'members', page: (w) => w.db.get(MemberRepository).list(w.a.server.id, { limit: 50 }) },
  {
    name: 'usage by day',
    page: (w) =>
      w.db.get(UsageRepository).daily(w.a.server.id, { from: '2025-01-01', to: '2030-12-31' }, { limit: 50 }),
  },
  {
    name: 'servers of an account',
    page: (w) =>
      w.db.get(ServerRepository).listForAccount(w.a.account.id, w.a.account.address, { limit: 50 }),
  },
];

function percentile(values: number[], p: number): number {
  const s = [...values].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const ms = (v: number): string => `${v.toFixed(2)} ms`;

async function main(): Promise<void> {
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const url = (name: string): string => {
    const u = new URL(base);
    u.pathname = `/hearth_bench_pages_${name}_${Date.now()}_${process.pid}`;
    return u.toString();
  };
  const urls = [url('alone'), url('beside')];
  const worlds: World[] = [];
  try {
    const alone = await world('alone', urls[0]);
    worlds.push(alone);
    const beside = await world('beside', urls[1]);
    worlds.push(beside);
    const ds = beside.db.dataSource;
    const tenants = await Promise.all(
      Array.from({ length: OTHER_TENANTS }, () => seedServer(ds, { kind: 'collective' })),
    );
    const keys = await Promise.all(tenants.map((t) => seedApiKey(ds, t.server.id)));
    const t0 = performance.now();
    await fillOtherTenants(ds, {
      rows,
      servers: tenants.map((t) => t.server.id),
      keys: keys.map((k) => k.id),
      accounts: tenants.map((t) => ({ id: t.account.id, address: t.account.address })),
      address: beside.member,
    });
    // Vacuumed as well as analyzed, so autovacuum does not wake up over the new rows while the rounds run.
    for (const w of worlds) await w.db.dataSource.query('VACUUM (ANALYZE)');
    process.stdout.write(
      `pages bench: ${rows.toLocaleString('en-US')} rows of ${OTHER_TENANTS} other tenants per table written` +
        ` and vacuumed in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${calls} calls per list and` +
        ` database, ${ROUNDS} alternating rounds\n`,
    );

    for (const list of lists) for (const w of worlds) for (let i = 0; i < 20; i++) await list.page(w);

    const times = new Map<string, number[]>();
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? [alone, beside] : [beside, alone];
      for (const list of lists) {
        for (const w of order) {
          const key = `${list.name}/${w.label}`;
          const out = times.get(key) ?? [];
          for (let i = 0; i < calls / ROUNDS; i++) {
            const start = performance.now();
            await list.page(w);
            out.push(performance.now() - start);
          }
          times.set(key, out);
        }
      }
    }

    const pad = (s: string, n: number): string => s.padEnd(n);
    const lines = [
      '',
      `first page, p50 / p99 (goal: ≤ ${GOAL_MS} ms beside ${rows.toLocaleString('en-US')} rows of other tenants)`,
      `${pad('list', 24)}${pad('alone', 22)}${pad('beside other tenants', 22)}${pad('ratio p50', 11)}goal`,
    ];
    let met = 0;
    for (const list of lists) {
      const a = times.get(`${list.name}/alone`) ?? [];
      const b = times.get(`${list.name}/beside`) ?? [];
      const ok = percentile(b, 50) <= GOAL_MS;
      if (ok) met++;
      const tail = percentile(b, 99) <= GOAL_MS ? 'p99 too' : 'not at p99';
      lines.push(
        `${pad(list.name, 24)}${pad(`${ms(percentile(a, 50))} / ${ms(percentile(a, 99))}`, 22)}` +
          `${pad(`${ms(percentile(b, 50))} / ${ms(percentile(b, 99))}`, 22)}` +
          `${pad(`${(percentile(b, 50) / percentile(a, 50)).toFixed(2)}x`, 11)}${ok ? 'met' : 'NOT met'} (${tail})`,
      );
    }
    lines.push(
      `goal (p50 ≤ ${GOAL_MS} ms beside the other tenants) met by ${met} of ${lists.length} lists`,
      '',
    );

    lines.push('plans beside the other tenants (EXPLAIN ANALYZE of the statement each page sent):');
    for (const list of lists) {
      const { statements } = await captureStatements(beside.db.dataSource, () => list.page(beside));
      for (const statement of statements) {
        const run = await explain(beside.db.dataSource, statement, { analyze: true });
        const generic = await explain(beside.db.dataSource, statement, { analyze: true, generic: true });
        lines.push(
          `  ${list.name}: ${planBuffers(run)} buffers, ${rowsRemoved(run)} rows dropped;` +
            ` as a generic plan ${planBuffers(generic)} buffers, ${rowsRemoved(generic)} rows dropped`,
          ...describeScans(run).map((s) => `    ${s}`),
        );
      }
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const w of worlds) await w.db.close();
    for (const u of urls) await dropDatabase(u).catch(() => undefined);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`pages bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
