/**
 * A Data Portability builder read, side by side with Hearth's own owner read in the same run: requests per second
 * of
 *   - a builder's Web3Signed GET /dp/{serverId}/v1/data/{scope} of a 4 KiB scope document (signature checked,
 *     payload accepted once in Redis, grant from the registries on the dev chain, readable setting, unwrap and
 *     decrypt, access-log row with a signed receipt),
 *   - the owner's read of the same document through the Hearth files API (session, unwrap, decrypt, access-log row),
 * at 10 and 50 connections, measured with autocannon. Each signed payload is accepted once, so every builder
 * request carries a header of its own, signed before the run (a pool per measurement; a measurement is the
 * pool's requests, its rate their count over the time they took). Boots its own dev chain (unless CHAIN_RPC_URL
 * names one), database and gateway (a child process). Prints figures; not a test.
 *
 * Builder and owner reads alternate in rounds (which goes first alternates too); figures are medians of the rounds.
 *
 *   npm run build && node dist/bench/dp-read.bench.js [--requests=4000] [--rounds=2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@hearth/config';
import { runMigrations } from '@hearth/db';
import autocannon from 'autocannon';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { startChainForTests } from '../scripts/lib/chain';
import { dropDatabase } from '../scripts/lib/services';
import { stopAll, waitForHttp, type Managed } from '../scripts/lib/processes';
import { DpRegistries, web3Signed } from '../test/support/dp-client';
import { newTenant } from '../test/support/flow';
import { bearer } from '../test/support/siwe';
import { startBenchGateway } from './lib/gateway';

function arg(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.split('=')[1]) : fallback;
}

const requestsPerRun = arg('requests', 4000);
const rounds = arg('rounds', 2);
const CONNECTIONS = [10, 50];
const REFERENCE = { name: 'personal-server-ts signed read (measured on this machine)', low: 376, high: 419 };

/** Runs `headers.length` requests (or `amount` when no pool), each with the next header; req/s. */
async function measure(
  url: string,
  connections: number,
  amount: number,
  headers: (i: number) => Record<string, string>,
) {
  let next = 0;
  const started = performance.now();
  const result = await autocannon({
    url,
    connections,
    amount,
    pipelining: 1,
    requests: [
      {
        setupRequest: (req) => ({ ...req, headers: { ...req.headers, ...headers(next++) } }),
      },
    ],
  });
  const wrong = result.non2xx + result.errors + result.timeouts;
  if (wrong > 0) throw new Error(`${url}: ${wrong} of ${result.requests.total} requests failed`);
  // Timed here: autocannon's own duration is too coarse for a run of a few seconds.
  return result.requests.total / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  base.pathname = `/hearth_bench_dp_${Date.now()}_${process.pid}`;
  const databaseUrl = base.toString();
  const home = mkdtempSync(join(tmpdir(), 'hearth-bench-dp-'));
  const chain = await startChainForTests(home);
  const procs: Managed[] = [];
  try {
    await runMigrations(databaseUrl);
    const { gateway, url, port } = await startBenchGateway({ databaseUrl, home, env: chain.env });
    procs.push(gateway);
    await waitForHttp(`${url}/health/live`);
    const config = loadConfig({
      ...process.env,
      ...chain.env,
      PORT: String(port),
      DATABASE_URL: databaseUrl,
    });
    const registries = new DpRegistries(config);
    const tenant = await newTenant(url);
    const scope = 'notes.journal';
    const dpBase = `/dp/${tenant.serverId}`;
    // A document whose stored envelope is 4 KiB.
    const filler =
      4096 -
      JSON.stringify({ version: '1.0', scope, collectedAt: new Date().toISOString(), data: { text: '' } })
        .length;
    const ingest = await fetch(`${url}${dpBase}/v1/data/${scope}`, {
      method: 'POST',
      headers: { ...bearer(tenant.token), 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x'.repeat(filler) }),
    });
    if (ingest.status !== 201) throw new Error(`ingest: ${ingest.status} ${await ingest.text()}`);
    const readable = await fetch(`${url}/v1/servers/${tenant.serverId}/data-portability/scopes/${scope}`, {
      method: 'PUT',
      headers: { ...bearer(tenant.token), 'content-type': 'application/json' },
      body: JSON.stringify({ readable: true }),
    });
    if (readable.status !== 200) throw new Error(`readable: ${readable.status}`);
    const builder = privateKeyToAccount(generatePrivateKey());
    const granteeId = await registries.registerBuilder(builder.address);
    const grantId = await registries.grant(tenant.owner, granteeId, builder.address, [scope]);
    const path = `${dpBase}/v1/data/${scope}`;
    const aud = config.siweOrigins[0];
    const sign = () =>
      web3Signed(builder, { aud, method: 'GET', uri: path, grantId, override: { nonce: randomUUID() } });
    const first = await fetch(`${url}${path}`, { headers: { authorization: await sign() } });
    const size = (await first.arrayBuffer()).byteLength;
    if (first.status !== 200) throw new Error(`builder read: ${first.status}`);
    const versions = (await (
      await fetch(`${url}${dpBase}/v1/data/${scope}/versions`, { headers: bearer(tenant.token) })
    ).json()) as {
      versions: Array<{ fileId: string }>;
    };
    const fileUrl = `${url}/v1/servers/${tenant.serverId}/files/${versions.versions[0].fileId}/content`;

    process.stdout.write(
      `dp-read bench: ${requestsPerRun} requests per measurement, document ${size} bytes; the machine is shared ` +
        `(other work running beside it inflates every figure alike)\n`,
    );
    const rows: string[] = [];
    const median = (v: number[]) => {
      const x = [...v].sort((p, q) => p - q);
      return x.length % 2 ? x[(x.length - 1) / 2] : (x[x.length / 2 - 1] + x[x.length / 2]) / 2;
    };
    for (const connections of CONNECTIONS) {
      const dpRates: number[] = [];
      const ownerRates: number[] = [];
      for (let round = 0; round < rounds; round++) {
        process.stdout.write(
          `  round ${round + 1}/${rounds}: signing ${requestsPerRun + 200} headers for ${connections} connections…\n`,
        );
        const pool: string[] = [];
        for (let i = 0; i < requestsPerRun + 200; i++) pool.push(await sign());
        // Warm-up on the pool's tail (JIT, pools, caches), then the measurement on the rest.
        await measure(`${url}${path}`, connections, 200, (i) => ({
          authorization: pool[requestsPerRun + i],
        }));
        const builderRead = () =>
          measure(`${url}${path}`, connections, requestsPerRun, (i) => ({ authorization: pool[i] }));
        const ownerRead = () => measure(fileUrl, connections, requestsPerRun, () => bearer(tenant.token));
        // Which read goes first alternates by round.
        if (round % 2 === 0) {
          dpRates.push(await builderRead());
          ownerRates.push(await ownerRead());
        } else {
          ownerRates.push(await ownerRead());
          dpRates.push(await builderRead());
        }
      }
      const dp = median(dpRates);
      const owner = median(ownerRates);
      rows.push(
        `  ${String(connections).padStart(3)} connections: builder Web3Signed read ${dp.toFixed(0).padStart(6)} req/s | ` +
          `owner files-API read ${owner.toFixed(0).padStart(6)} req/s | builder ÷ ${REFERENCE.low}–${REFERENCE.high}: ` +
          `${(dp / REFERENCE.high).toFixed(1)}–${(dp / REFERENCE.low).toFixed(1)}× (medians of ${rounds} alternating rounds)`,
      );
    }
    process.stdout.write(`\n${rows.join('\n')}\n`);
    process.stdout.write(
      `\nreference: ${REFERENCE.name} ${REFERENCE.low}–${REFERENCE.high} req/s; goal ≥ 5× (≥ ${5 * REFERENCE.high} req/s)\n`,
    );
  } finally {
    await stopAll(procs);
    await chain.stop();
    await dropDatabase(databaseUrl).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`dp-read bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
