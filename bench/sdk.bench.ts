/*
 * @hearth/sdk against the raw floor, both in the same run, in alternating rounds (which side goes first
 * alternates), ratios as medians of the per-round ratios.
 *
 * (1) encryptForServer (Node entry: node:crypto AES-256-GCM per 64 KiB chunk, framing, ECDH + HKDF) over
 *     100 MiB streamed in 64 KiB pieces, against raw AES-256-GCM (node:crypto, one cipher stream) over the same
 *     pieces. Goal: SDK throughput ≥ 0.7 × raw. The WebCrypto backend (what browsers use) and 1 MiB chunks (the
 *     header's chunk_size; the default is the reference producer's 64 KiB) are shown beside it.
 * (2) HearthApp.run() (Prefer: wait, Idempotency-Key, problem handling, JSON) against a hand-written fetch of
 *     the same request, `stats` over a 1 KiB file on a local stack (gateway + worker in this process, fresh
 *     database, dev chain). The two alternate request by request. Goal: SDK time per call ≤ 1.05 × hand-written.
 *
 *   node dist/bench/sdk.bench.js [--mib=100] [--rounds=5] [--runs=40] [--only=envelope,run]
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigrations } from '@hearth/db';
import { identityFromPrivateKey } from '@hearth/crypto';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { encryptForServer, HearthApp, HearthOwner, nodeCryptoAead, webCryptoAead } from '@hearth/sdk';
import { startChainForTests } from '../scripts/lib/chain';
import { checkServices, dropDatabase } from '../scripts/lib/services';
import { type RunningGateway, type RunningWorker, startGateway, startWorker } from '../test/support/apps';

// why: a standalone bench script, not app code; it takes the same variables the apps get through libs/config.
const BASE_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MIB = Number(arg('mib') ?? 100);
const ROUNDS = Number(arg('rounds') ?? 5);
const RUNS = Number(arg('runs') ?? 40);
const ONLY = new Set((arg('only') ?? 'envelope,run').split(','));
const PIECE = 64 * 1024;

function arg(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const BLOCK = randomBytes(4 * 1024 * 1024);
/** `MIB` MiB in 64 KiB pieces, views into one random block (no allocation in the source itself). */
function* source(): Generator<Uint8Array> {
  const pieces = (MIB * 1024 * 1024) / PIECE;
  for (let i = 0; i < pieces; i++) {
    const offset = (i * PIECE) % BLOCK.length;
    yield BLOCK.subarray(offset, offset + PIECE);
  }
}

async function* asyncSource(): AsyncGenerator<Uint8Array> {
  yield* source();
}

async function rawGcm(): Promise<number> {
  const started = performance.now();
  const cipher = createCipheriv('aes-256-gcm', randomBytes(32), randomBytes(12));
  let bytes = 0;
  for await (const piece of asyncSource()) bytes += cipher.update(piece).length;
  cipher.final();
  bytes += cipher.getAuthTag().length;
  if (bytes < MIB * 1024 * 1024) throw new Error('short');
  return performance.now() - started;
}

const recipient = identityFromPrivateKey(randomBytes(32));
async function sdkEnvelope(aead = nodeCryptoAead, chunkSize?: number): Promise<number> {
  const started = performance.now();
  let bytes = 0;
  for await (const part of encryptForServer(recipient, asyncSource(), { aead, chunkSize }))
    bytes += part.byteLength;
  if (bytes < MIB * 1024 * 1024) throw new Error('short');
  return performance.now() - started;
}

async function envelopeBench(): Promise<void> {
  console.log(
    `\n(1) encryptForServer vs raw AES-256-GCM, ${MIB} MiB streamed in 64 KiB pieces, ${ROUNDS} rounds`,
  );
  await rawGcm();
  await sdkEnvelope(); // warm-up
  const ratios: number[] = [];
  const webRatios: number[] = [];
  const bigRatios: number[] = [];
  const raw: number[] = [];
  const sdk: number[] = [];
  const web: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Even rounds: raw, SDK, WebCrypto, 1 MiB chunks; odd rounds the reverse, so none always runs first.
    let r = NaN;
    let s = NaN;
    let w = NaN;
    let big = NaN;
    const steps = [
      async () => (r = await rawGcm()),
      async () => (s = await sdkEnvelope()),
      async () => (w = await sdkEnvelope(webCryptoAead)),
      async () => (big = await sdkEnvelope(nodeCryptoAead, 1024 * 1024)),
    ];
    for (const step of round % 2 === 0 ? steps : [...steps].reverse()) await step();
    bigRatios.push(r / big);
    raw.push(r);
    sdk.push(s);
    web.push(w);
    ratios.push(r / s);
    webRatios.push(r / w);
    console.log(
      `  round ${round + 1}: raw ${r.toFixed(0)} ms, sdk (node:crypto) ${s.toFixed(0)} ms → ${(r / s).toFixed(2)}×, ` +
        `sdk (WebCrypto) ${w.toFixed(0)} ms → ${(r / w).toFixed(2)}×, sdk (node:crypto, 1 MiB chunks) ${big.toFixed(0)} ms`,
    );
  }
  const mibps = (ms: number) => ((MIB / ms) * 1000).toFixed(0);
  console.log(
    `  median: raw ${mibps(median(raw))} MiB/s, sdk node:crypto ${mibps(median(sdk))} MiB/s, sdk WebCrypto ${mibps(median(web))} MiB/s`,
  );
  console.log(
    `  RATIO sdk/raw throughput (node:crypto): ${median(ratios).toFixed(2)}× (goal ≥ 0.70); WebCrypto: ${median(webRatios).toFixed(2)}×; ` +
      `node:crypto with 1 MiB chunks: ${median(bigRatios).toFixed(2)}×`,
  );
}

async function runBench(): Promise<void> {
  console.log(
    `\n(2) HearthApp.run() vs a hand-written fetch of the same request, ${ROUNDS} rounds × ${RUNS} pairs`,
  );
  await checkServices(BASE_DATABASE_URL, REDIS_URL);
  const dbUrl = new URL(BASE_DATABASE_URL);
  dbUrl.pathname = `/hearth_bench_sdk_${Date.now()}_${process.pid}`;
  const databaseUrl = dbUrl.toString();
  const home = mkdtempSync(join(tmpdir(), 'hearth-bench-sdk-'));
  const chain = await startChainForTests(home);
  let gw: RunningGateway | undefined;
  let worker: RunningWorker | undefined;
  try {
    await runMigrations(databaseUrl);
    const overrides: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      HEARTH_HOME: home,
      QUEUE_PREFIX: `hearth-bench-sdk-${process.pid}`,
      ...chain.env,
    };
    gw = await startGateway(overrides);
    worker = await startWorker(overrides);
    const owner = await HearthOwner.signIn(privateKeyToAccount(generatePrivateKey()), { baseUrl: gw.url });
    const server = await owner.personalServer();
    const file = await owner.upload(server.id, 'The walk by the river was quiet. '.repeat(32), {
      name: 'note.txt',
      contentType: 'text/plain',
    });
    const appAccount = privateKeyToAccount(generatePrivateKey());
    const key = await owner.createApiKey(server.id, {
      name: 'bench',
      appAddress: appAccount.address,
      ratePerMinute: 1_000_000,
    });
    const { grantId } = await owner.grant(server.id, {
      appAddress: appAccount.address,
      operations: ['stats'],
      fileIds: [file.id],
    });
    const app = new HearthApp({ apiKey: key.key, baseUrl: gw.url });
    const url = gw.url;
    const body = { operation: 'stats', fileIds: [file.id], parameters: {}, grantId };
    let n = 0;
    const hand = async (): Promise<number> => {
      const started = performance.now();
      const res = await fetch(`${url}/v1/operations`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key.key}`,
          'content-type': 'application/json',
          prefer: 'wait=30',
          'idempotency-key': `hand-${process.pid}-${n++}`,
        },
        body: JSON.stringify(body),
      });
      const op = (await res.json()) as { status: string };
      if (res.status !== 200 || op.status !== 'succeeded')
        throw new Error(`hand: ${res.status} ${op.status}`);
      return performance.now() - started;
    };
    const viaSdk = async (): Promise<number> => {
      const started = performance.now();
      const op = await app.run('stats', { fileIds: [file.id], parameters: {}, grantId });
      if (op.status !== 'succeeded') throw new Error(`sdk: ${op.status}`);
      return performance.now() - started;
    };
    for (let i = 0; i < 5; i++) {
      await hand();
      await viaSdk();
    }
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const h: number[] = [];
      const s: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        if ((round + i) % 2 === 0) {
          h.push(await hand());
          s.push(await viaSdk());
        } else {
          s.push(await viaSdk());
          h.push(await hand());
        }
      }
      const ratio = median(s) / median(h);
      ratios.push(ratio);
      console.log(
        `  round ${round + 1}: hand-written p50 ${median(h).toFixed(2)} ms, sdk p50 ${median(s).toFixed(2)} ms → ${ratio.toFixed(3)}×`,
      );
    }
    console.log(`  RATIO sdk/hand-written time per run(): ${median(ratios).toFixed(3)}× (goal ≤ 1.05)`);
  } finally {
    await worker?.close();
    await gw?.close();
    await chain.stop();
    await dropDatabase(databaseUrl).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(
    `sdk bench: node ${process.version}, ${availableParallelism()} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  if (ONLY.has('envelope')) await envelopeBench();
  if (ONLY.has('run')) await runBench();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
