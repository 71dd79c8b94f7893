/**
 * Tenancy: sign-in-to-ready-server latency for new addresses (nonce + SIWE + the personal server
 * provisioned + GET /v1/servers/:id answering), against a baseline measured in the same run (a bare
 * GET /health/live and GET /v1/auth/nonce, in alternating rounds), and the gateway's RSS growth over 10,000 provisioned tenants.
 * Boots its own gateway (a child process, so its RSS is the gateway's alone) on the local Postgres and
 * Redis with a fresh database and keystore. Prints figures; not a test.
 *
 *   npm run build && node dist/bench/tenancy.bench.js [latencyCount=1000] [tenants=10000] [concurrency=16]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runMigrations } from '@hearth/db';
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';
import { createSiweMessage } from 'viem/siwe';
import { dropDatabase } from '../scripts/lib/services';
import { startBenchGateway } from './lib/gateway';
import { rssMiB, stopAll, waitForHttp } from '../scripts/lib/processes';

const latencyCount = Number(process.argv[2] ?? 1000);
const tenantCount = Number(process.argv[3] ?? 10_000);
const concurrency = Number(process.argv[4] ?? 16);

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const fmt = (ms: number): string => `${ms.toFixed(2)} ms`;

async function json<T>(res: Response, want: number, what: string): Promise<T> {
  if (res.status !== want) throw new Error(`${what}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** One new address from nothing to a ready server; returns the time spent signing client-side. */
async function signUp(url: string, wallet: PrivateKeyAccount): Promise<{ signMs: number; serverId: string }> {
  const info = await json<{ nonce: string; domain: string; chainId: number }>(
    await fetch(`${url}/v1/auth/nonce`),
    200,
    'nonce',
  );
  const s0 = performance.now();
  const message = createSiweMessage({
    address: wallet.address,
    chainId: info.chainId,
    domain: info.domain,
    nonce: info.nonce,
    uri: `http://${info.domain}/`,
    version: '1',
    issuedAt: new Date(),
  });
  const signature = await wallet.signMessage({ message });
  const signMs = performance.now() - s0;
  const { token } = await json<{ token: string }>(
    await fetch(`${url}/v1/auth/siwe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message, signature }),
    }),
    201,
    'siwe',
  );
  const auth = { authorization: `Bearer ${token}` };
  const { items } = await json<{ items: Array<{ id: string }> }>(
    await fetch(`${url}/v1/servers`, { headers: auth }),
    200,
    'servers',
  );
  const serverId = items[0]?.id ?? '';
  await json(await fetch(`${url}/v1/servers/${serverId}`, { headers: auth }), 200, 'server');
  return { signMs, serverId };
}

async function timeRequests(n: number, fn: () => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

async function main(): Promise<void> {
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  base.pathname = `/hearth_bench_${Date.now()}_${process.pid}`;
  const databaseUrl = base.toString();
  const home = mkdtempSync(join(tmpdir(), 'hearth-bench-'));
  await runMigrations(databaseUrl);
  const { gateway, url } = await startBenchGateway({ databaseUrl, home });
  try {
    await waitForHttp(`${url}/health/live`);
    const pid = gateway.child.pid as number;
    process.stdout.write(`tenancy bench: gateway pid ${pid} on ${url}, database ${base.pathname.slice(1)}\n`);

    // Warm up JIT, pools and the keystore directory.
    for (let i = 0; i < 100; i++) await signUp(url, privateKeyToAccount(generatePrivateKey()));
    await timeRequests(200, async () => void (await (await fetch(`${url}/health/live`)).text()));

    // The baselines and the sign-ins alternate in rounds (the order flips every round), so that a change in the
    // machine's load shows in all three alike.
    const rounds = 10;
    const live: number[] = [];
    const nonce: number[] = [];
    const total: number[] = [];
    const server: number[] = [];
    const steps: Array<(n: number) => Promise<void>> = [
      async (n) => {
        live.push(
          ...(await timeRequests(n, async () => void (await (await fetch(`${url}/health/live`)).text()))),
        );
      },
      async (n) => {
        nonce.push(
          ...(await timeRequests(n, async () => void (await (await fetch(`${url}/v1/auth/nonce`)).text()))),
        );
      },
      async (n) => {
        for (let i = 0; i < n; i++) {
          const wallet = privateKeyToAccount(generatePrivateKey());
          const t0 = performance.now();
          const { signMs } = await signUp(url, wallet);
          const ms = performance.now() - t0;
          total.push(ms);
          server.push(ms - signMs);
        }
      },
    ];
    for (let round = 0; round < rounds; round++) {
      const n = Math.floor(latencyCount / rounds) + (round < latencyCount % rounds ? 1 : 0);
      for (const step of round % 2 ? [...steps].reverse() : steps) await step(n);
    }
    const p50 = percentile(server, 50);
    process.stdout.write(
      [
        `\nsign-in to ready server, ${latencyCount} new addresses, sequential (4 requests: nonce, siwe, list, get):`,
        `  end to end incl. client signing : p50 ${fmt(percentile(total, 50))}  p99 ${fmt(percentile(total, 99))}`,
        `  without client signing          : p50 ${fmt(p50)}  p99 ${fmt(percentile(server, 99))}   (goal: p50 < 25 ms)`,
        `baseline, same run:`,
        `  GET /health/live                : p50 ${fmt(percentile(live, 50))}  p99 ${fmt(percentile(live, 99))}`,
        `  GET /v1/auth/nonce              : p50 ${fmt(percentile(nonce, 50))}  p99 ${fmt(percentile(nonce, 99))}`,
        `  ratio sign-in p50 / live p50    : ${(p50 / percentile(live, 50)).toFixed(1)}x`,
        `  ratio sign-in p50 / nonce p50   : ${(p50 / percentile(nonce, 50)).toFixed(1)}x`,
        '',
      ].join('\n'),
    );

    const rssBefore = rssMiB(pid);
    const started = performance.now();
    let next = 0;
    let peak = rssBefore;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < tenantCount) {
          next++;
          await signUp(url, privateKeyToAccount(generatePrivateKey()));
          if (next % 500 === 0) peak = Math.max(peak, rssMiB(pid));
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    peak = Math.max(peak, rssMiB(pid));
    const rssAfter = rssMiB(pid);
    process.stdout.write(
      [
        `gateway RSS over ${tenantCount} new tenants (${concurrency} concurrent sign-ups, ${(tenantCount / seconds).toFixed(0)}/s):`,
        `  before ${rssBefore.toFixed(1)} MiB, after ${rssAfter.toFixed(1)} MiB, peak ${peak.toFixed(1)} MiB`,
        `  growth ${(rssAfter - rssBefore).toFixed(1)} MiB   (goal: < 100 MiB)`,
        '',
      ].join('\n'),
    );
  } finally {
    await stopAll([gateway]);
    await dropDatabase(databaseUrl).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`tenancy bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
