/**
 * The gateway's HTTP floor, side by side with a bare Fastify route in the same run: requests per second of
 *   - a bare Fastify hello-world (the framework's floor, its own process),
 *   - Hearth's GET /health/live (Nest, logging, metrics, request id),
 *   - an API-key GET /v1/whoami (the key's lookup and its rate-limit window in Redis),
 *   - the owner's read of a 4 KiB server-side encrypted file (session, membership, unwrap, decrypt, stream,
 *     access-log row),
 * each measured with autocannon in alternating rounds (bare, live, whoami, read; then read, whoami, live, bare) so that a
 * noisy neighbour hits every target alike. Boots its own gateway (a child process) on the local Postgres and
 * Redis with a fresh database and keystore. Prints figures; not a test.
 *
 *   npm run build && node dist/bench/http.bench.js [--rounds=3] [--seconds=5] [--connections=16]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigrations } from '@hearth/db';
import { dropDatabase } from '../scripts/lib/services';
import { freePort, startNode, stopAll, waitForHttp, type Managed } from '../scripts/lib/processes';
import { json, newApp, newTenant, uploadText } from '../test/support/flow';
import { startBenchGateway } from './lib/gateway';
import { bearer } from '../test/support/siwe';
import { numberArg } from './lib/args';
import { median, requestRate } from './lib/load';

const rounds = numberArg('rounds', 3);
const seconds = numberArg('seconds', 5);
const connections = numberArg('connections', 16);

interface Target {
  name: string;
  url: string;
  headers?: Record<string, string>;
  expect: number;
}

const measure = (target: Target, duration: number): Promise<number> =>
  requestRate(target, connections, duration);

async function main(): Promise<void> {
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  base.pathname = `/hearth_bench_${Date.now()}_${process.pid}`;
  const databaseUrl = base.toString();
  const home = mkdtempSync(join(tmpdir(), 'hearth-bench-'));
  const barePort = await freePort();
  await runMigrations(databaseUrl);
  const { gateway, url } = await startBenchGateway({ databaseUrl, home });
  const procs: Managed[] = [
    gateway,
    startNode('bare', 'bench/lib/bare-fastify.js', { ...process.env, PORT: String(barePort) }, true),
  ];
  try {
    await waitForHttp(`${url}/health/live`);
    await waitForHttp(`http://127.0.0.1:${barePort}/hello`);
    const tenant = await newTenant(url);
    const app = await newApp(url, tenant, { ratePerMinute: 1_000_000 });
    const fileId = await uploadText(url, tenant, 'journal.txt', 'x'.repeat(4096));
    const read = await fetch(`${url}/v1/servers/${tenant.serverId}/files/${fileId}/content`, {
      headers: bearer(tenant.token),
    });
    if ((await read.text()).length !== 4096) throw new Error('the owner read did not return the file');
    await json(await fetch(`${url}/v1/whoami`, { headers: bearer(app.key) }));

    const targets: Target[] = [
      { name: 'bare Fastify GET /hello', url: `http://127.0.0.1:${barePort}/hello`, expect: 200 },
      { name: 'GET /health/live', url: `${url}/health/live`, expect: 200 },
      { name: 'API-key GET /v1/whoami', url: `${url}/v1/whoami`, headers: bearer(app.key), expect: 200 },
      {
        name: 'owner read, 4 KiB encrypted',
        url: `${url}/v1/servers/${tenant.serverId}/files/${fileId}/content`,
        headers: bearer(tenant.token),
        expect: 200,
      },
    ];
    process.stdout.write(
      `http bench: ${rounds} alternating rounds of ${seconds} s per target, ${connections} connections\n`,
    );
    for (const t of targets) await measure(t, 1); // warm-up: JIT, pools, keystore
    const perTarget = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    for (let round = 1; round <= rounds; round++) {
      const line: string[] = [];
      // The order flips every round, so no target always runs first (or right after another).
      for (const t of round % 2 ? targets : [...targets].reverse())
        perTarget.get(t.name)!.push(await measure(t, seconds));
      for (const t of targets) {
        line.push(`${t.name.split(' ').slice(0, 3).join(' ')} ${perTarget.get(t.name)!.at(-1)!.toFixed(0)}`);
      }
      process.stdout.write(`  round ${round}: ${line.join(' | ')}\n`);
    }
    const bare = median(perTarget.get(targets[0].name)!);
    process.stdout.write('\nmedian req/s (× bare Fastify in the same run):\n');
    for (const t of targets) {
      const rps = median(perTarget.get(t.name)!);
      process.stdout.write(
        `  ${t.name.padEnd(30)} ${rps.toFixed(0).padStart(7)}  (${(rps / bare).toFixed(2)}×)\n`,
      );
    }
    process.stdout.write(
      '\ngoals: API-key GET ≥ 0.50× bare Fastify; owner 4 KiB read ≥ 2,000 req/s (5× personal-server-ts here)\n',
    );
  } finally {
    await stopAll(procs);
    await dropDatabase(databaseUrl).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`http bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
