/**
 * Upload memory: the gateway's RSS growth while a 100 MiB file streams in (sealed chunk by chunk into
 * Postgres), against a baseline measured in the same run: a bare node:http server that reads and discards the
 * same 100 MiB. Boots its own gateway (a child process, so its RSS is the gateway's alone) on a fresh database
 * and keystore. Prints figures; not a test.
 *
 *   npm run build && node dist/bench/upload.bench.js [MiB=100] [rounds=2]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runMigrations } from '@hearth/db';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { createSiweMessage } from 'viem/siwe';
import { dropDatabase } from '../scripts/lib/services';
import { startBenchGateway } from './lib/gateway';
import { freePort, rssMiB, stopAll, waitForHttp } from '../scripts/lib/processes';

const MIB = 1024 * 1024;
const sizeMiB = Number(process.argv[2] ?? 100);
const rounds = Number(process.argv[3] ?? 2);

/** 100 MiB of non-repeating text-ish bytes, produced 1 MiB at a time (the client never holds it whole). */
function body(): ReadableStream<Uint8Array> {
  let sent = 0;
  const block = Buffer.alloc(MIB);
  return Readable.toWeb(
    new Readable({
      read() {
        if (sent >= sizeMiB) return this.push(null);
        for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((sent * MIB + i) ^ 0x5bd1e995, i);
        sent++;
        this.push(Buffer.from(block));
      },
    }),
  ) as ReadableStream<Uint8Array>;
}

/** Uploads while sampling the server's RSS every 20 ms; returns [before, peak] in MiB and the seconds taken. */
async function measure(
  pid: number,
  url: string,
  headers: Record<string, string>,
): Promise<{ before: number; peak: number; seconds: number; status: number }> {
  const before = rssMiB(pid);
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);
  const t0 = performance.now();
  const res = await fetch(url, { method: 'POST', headers, body: body(), duplex: 'half' });
  await res.text();
  clearInterval(timer);
  peak = Math.max(peak, rssMiB(pid));
  return { before, peak, seconds: (performance.now() - t0) / 1000, status: res.status };
}

const SINK = `require('node:http').createServer((req, res) => { req.on('data', () => {}); req.on('end', () => res.end('ok')); }).listen(Number(process.argv[2]), '127.0.0.1', () => process.send('ready'));`;

async function main(): Promise<void> {
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  base.pathname = `/hearth_bench_upload_${Date.now()}_${process.pid}`;
  const databaseUrl = base.toString();
  const home = mkdtempSync(join(tmpdir(), 'hearth-bench-'));
  await runMigrations(databaseUrl);

  // Baseline: a bare HTTP server reading and discarding the same bytes.
  const sinkFile = join(home, 'sink.js');
  writeFileSync(sinkFile, SINK);
  const sinkPort = await freePort();
  const sink = fork(sinkFile, [String(sinkPort)], { stdio: 'ignore' });
  await new Promise((resolve) => sink.once('message', resolve));
  const measureBare = () =>
    measure(sink.pid!, `http://127.0.0.1:${sinkPort}/`, { 'content-type': 'application/octet-stream' });

  const { gateway, url } = await startBenchGateway({
    databaseUrl,
    home,
    env: { MAX_UPLOAD_BYTES: String(2 * sizeMiB * MIB) },
  });
  try {
    await waitForHttp(`${url}/health/live`);
    const wallet = privateKeyToAccount(generatePrivateKey());
    const info = (await (await fetch(`${url}/v1/auth/nonce`)).json()) as {
      nonce: string;
      domain: string;
      chainId: number;
    };
    const message = createSiweMessage({
      address: wallet.address,
      chainId: info.chainId,
      domain: info.domain,
      nonce: info.nonce,
      uri: url,
      version: '1',
    });
    const session = (await (
      await fetch(`${url}/v1/auth/siwe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message, signature: await wallet.signMessage({ message }) }),
      })
    ).json()) as { token: string };
    const servers = (await (
      await fetch(`${url}/v1/servers`, { headers: { authorization: `Bearer ${session.token}` } })
    ).json()) as {
      items: Array<{ id: string }>;
    };
    const pid = gateway.child.pid!;
    // Warm the upload path once with a small file so JIT and pools are not counted as growth.
    await fetch(`${url}/v1/servers/${servers.items[0].id}/files?name=warm`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session.token}`, 'content-type': 'text/plain' },
      body: 'warm up',
    });
    const measureHearth = async () => {
      const m = await measure(pid, `${url}/v1/servers/${servers.items[0].id}/files?name=big.bin`, {
        authorization: `Bearer ${session.token}`,
        'content-type': 'application/octet-stream',
      });
      if (m.status !== 201) throw new Error(`upload answered ${m.status}`);
      return m;
    };
    // Baseline and Hearth alternate in rounds, which goes first flipping every round; growth is the worst round's
    // (peak − the RSS just before that upload), throughput the median round's.
    type Measured = Awaited<ReturnType<typeof measure>>;
    const bares: Measured[] = [];
    const hearths: Measured[] = [];
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) {
        bares.push(await measureBare());
        hearths.push(await measureHearth());
      } else {
        hearths.push(await measureHearth());
        bares.push(await measureBare());
      }
    }
    const summary = (ms: Measured[]) => {
      const worst = ms.reduce((a, m) => (m.peak - m.before > a.peak - a.before ? m : a));
      const seconds = [...ms.map((m) => m.seconds)].sort((a, b) => a - b)[Math.floor(ms.length / 2)];
      return { before: worst.before, peak: worst.peak, seconds };
    };
    const bare = summary(bares);
    const hearth = summary(hearths);
    process.stdout.write(
      `upload of ${sizeMiB} MiB, streamed (1 MiB writes by the client), ${rounds} alternating rounds:\n`,
    );
    process.stdout.write(
      `  bare node:http sink (baseline) : RSS ${bare.before.toFixed(1)} → peak ${bare.peak.toFixed(1)} MiB, growth ${(bare.peak - bare.before).toFixed(1)} MiB, ${(sizeMiB / bare.seconds).toFixed(1)} MiB/s\n`,
    );
    process.stdout.write(
      `  Hearth gateway (seal + store) : RSS ${hearth.before.toFixed(1)} → peak ${hearth.peak.toFixed(1)} MiB, growth ${(hearth.peak - hearth.before).toFixed(1)} MiB, ${(sizeMiB / hearth.seconds).toFixed(1)} MiB/s   (goal: growth < 64 MiB)\n`,
    );
    process.stdout.write(
      `  ratios Hearth / baseline     : growth ${((hearth.peak - hearth.before) / Math.max(0.1, bare.peak - bare.before)).toFixed(2)}x, throughput ${(bare.seconds / hearth.seconds).toFixed(2)}x\n`,
    );
  } finally {
    sink.kill();
    await stopAll([gateway]);
    await dropDatabase(databaseUrl).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`upload bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
