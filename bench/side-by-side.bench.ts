/**
 * Hearth's HTTP floor beside a bare Fastify route and beside vana's personal-server-ts, in one run:
 *   - bare Fastify GET /hello (the framework's floor, its own process: bench/lib/bare-fastify.ts),
 *   - Hearth's API-key GET /v1/whoami,
 *   - Hearth's owner read of a 4 KiB server-encrypted file (GET /v1/servers/:id/files/:fileId/content),
 *   - personal-server-ts serving a 4 KiB scope to its owner (GET /v1/data/:scope with the ephemeral owner token
 *     its dev UI prints), when PERSONAL_SERVER_TS_DIR names a built checkout (packages/server/dist/index.js,
 *     and a .env with its VANA_MASTER_KEY_SIGNATURE as its README sets up); else one line says so. It keeps
 *     local data in plaintext (it encrypts only the copies it syncs), so its read has no decryption to do; a
 *     builder's signed read there needs its grants from the Vana gateway, which a local run does not have.
 * Each with autocannon at the same connections, in alternating rounds whose order flips every round (so that a
 * noisy neighbour hits every target alike and none always runs first); figures are medians over the rounds and
 * each ratio is the median of the per-round ratios. Goals: API-key GET ≥ 0.50× bare Fastify, Hearth owner read
 * ≥ 5× personal-server-ts and ≥ 2,000 req/s. Boots its own gateway (a child process) on the local Postgres and
 * Redis with a fresh database and keystore. Prints figures; not a test.
 *
 *   npm run build && [PERSONAL_SERVER_TS_DIR=…] node dist/bench/side-by-side.bench.js [--rounds=3]
 *                                                [--seconds=5] [--connections=16]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigrations } from '@hearth/db';
import { dropDatabase } from '../scripts/lib/services';
import { freePort, startNode, stopAll, waitForHttp, type Managed } from '../scripts/lib/processes';
import { json, newApp, newTenant, uploadText } from '../test/support/flow';
import { bearer } from '../test/support/siwe';
import { startBenchGateway } from './lib/gateway';
import { numberArg } from './lib/args';
import { median, requestRate } from './lib/load';

const rounds = numberArg('rounds', 3);
const seconds = numberArg('seconds', 5);
const connections = numberArg('connections', 16);
const FILE_BYTES = 4096;
// why: a standalone bench script, not app code; where the reference server lives is the bench's own input.
const PERSONAL_SERVER_TS_DIR = process.env.PERSONAL_SERVER_TS_DIR;

interface Target {
  name: string;
  /** For the per-round lines. */
  short: string;
  url: string;
  headers?: Record<string, string>;
}

const measure = (target: Target, duration: number): Promise<number> =>
  requestRate(target, connections, duration);

interface Reference {
  target: Target;
  stop: () => Promise<void>;
}

/**
 * Starts personal-server-ts from a built checkout on a free port with a fresh root folder, its dev UI on (which
 * makes it print an ephemeral owner token), stores a 4 KiB scope as its owner, and checks the read returns it.
 */
async function startPersonalServerTs(dir: string, root: string): Promise<Reference> {
  const entry = join(dir, 'packages/server/dist/index.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing (build the checkout first)`);
  const port = await freePort();
  // Its settings come from <root>/config.json (created with defaults if missing): the port, the dev UI on (for its
  // owner token), no tunnel, warnings only in its log; the master key signature from the checkout's .env.
  writeFileSync(
    join(root, 'config.json'),
    JSON.stringify({
      server: { port, origin: `http://127.0.0.1:${port}` },
      devUi: { enabled: true },
      tunnel: { enabled: false },
      logging: { level: 'info', pretty: false },
    }),
  );
  const child: ChildProcess = spawn(process.execPath, [`--env-file-if-exists=${join(dir, '.env')}`, entry], {
    cwd: dir,
    env: { ...process.env, NODE_ENV: 'production', PERSONAL_SERVER_ROOT_PATH: root },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const devToken = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('no dev token printed within 60 s')), 60_000);
      const onData = (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const hit = /"devToken":"([0-9a-f]{64})"|devToken[^0-9a-f]{1,20}([0-9a-f]{64})/.exec(out);
        if (hit) {
          clearTimeout(timer);
          resolve(hit[1] ?? hit[2]);
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out.slice(-600)}`)));
    });
    // Keep draining its logs so a full pipe never stalls it.
    child.stdout?.resume();
    child.stderr?.resume();
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/health`);
    const scope = 'bench.journal';
    const headers = { authorization: `Bearer ${devToken}` };
    const document = { text: 'x'.repeat(FILE_BYTES - 11) };
    const put = await fetch(`${url}/v1/data/${scope}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(document),
    });
    if (!put.ok) throw new Error(`storing the scope: ${put.status} ${await put.text()}`);
    const read = await fetch(`${url}/v1/data/${scope}`, { headers });
    const body = await read.text();
    if (!read.ok || !body.includes(document.text))
      throw new Error(`reading the scope back: ${read.status} ${body.slice(0, 300)}`);
    return {
      target: {
        name: 'personal-server-ts owner read, 4 KiB (plaintext at rest)',
        short: 'personal-server-ts',
        url: `${url}/v1/data/${scope}`,
        headers,
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function main(): Promise<void> {
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  base.pathname = `/hearth_bench_${Date.now()}_${process.pid}`;
  const databaseUrl = base.toString();
  const home = mkdtempSync(join(tmpdir(), 'hearth-bench-'));
  const referenceRoot = mkdtempSync(join(tmpdir(), 'hearth-bench-pst-'));
  const barePort = await freePort();
  process.stdout.write(
    `side-by-side bench: load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  await runMigrations(databaseUrl);
  const { gateway, url } = await startBenchGateway({ databaseUrl, home });
  const procs: Managed[] = [
    gateway,
    startNode('bare', 'bench/lib/bare-fastify.js', { ...process.env, PORT: String(barePort) }, true),
  ];
  let reference: Reference | undefined;
  try {
    await waitForHttp(`${url}/health/live`);
    await waitForHttp(`http://127.0.0.1:${barePort}/hello`);
    const tenant = await newTenant(url);
    const app = await newApp(url, tenant, { ratePerMinute: 1_000_000 });
    const fileId = await uploadText(url, tenant, 'journal.txt', 'x'.repeat(FILE_BYTES));
    const read = await fetch(`${url}/v1/servers/${tenant.serverId}/files/${fileId}/content`, {
      headers: bearer(tenant.token),
    });
    if ((await read.text()).length !== FILE_BYTES) throw new Error('the owner read did not return the file');
    await json(await fetch(`${url}/v1/whoami`, { headers: bearer(app.key) }));

    const bare: Target = {
      name: 'bare Fastify GET /hello',
      short: 'bare',
      url: `http://127.0.0.1:${barePort}/hello`,
    };
    const whoami: Target = {
      name: 'Hearth API-key GET /v1/whoami',
      short: 'whoami',
      url: `${url}/v1/whoami`,
      headers: bearer(app.key),
    };
    const ownerRead: Target = {
      name: 'Hearth owner read, 4 KiB encrypted',
      short: 'owner read',
      url: `${url}/v1/servers/${tenant.serverId}/files/${fileId}/content`,
      headers: bearer(tenant.token),
    };
    const targets = [bare, whoami, ownerRead];
    if (!PERSONAL_SERVER_TS_DIR) {
      process.stdout.write('personal-server-ts: not measured (PERSONAL_SERVER_TS_DIR is not set)\n');
    } else {
      try {
        reference = await startPersonalServerTs(PERSONAL_SERVER_TS_DIR, referenceRoot);
        targets.push(reference.target);
      } catch (err) {
        process.stdout.write(
          `personal-server-ts: not measured (${err instanceof Error ? err.message : String(err)})\n`,
        );
      }
    }
    process.stdout.write(
      `${rounds} alternating rounds of ${seconds} s per target (order flips every round), ${connections} connections\n`,
    );
    for (const t of targets) await measure(t, 1); // warm-up: JIT, pools, keystore
    const perRound: Array<Map<string, number>> = [];
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 ? targets : [...targets].reverse();
      const figures = new Map<string, number>();
      for (const t of order) figures.set(t.name, await measure(t, seconds));
      perRound.push(figures);
      const line = targets.map((t) => `${t.short} ${figures.get(t.name)!.toFixed(0)}`);
      process.stdout.write(`  round ${round}: ${line.join(' | ')}\n`);
    }
    const rps = (t: Target) => median(perRound.map((r) => r.get(t.name)!));
    const ratio = (a: Target, b: Target) => median(perRound.map((r) => r.get(a.name)! / r.get(b.name)!));
    process.stdout.write('\nmedian req/s:\n');
    for (const t of targets)
      process.stdout.write(`  ${t.name.padEnd(56)} ${rps(t).toFixed(0).padStart(7)}\n`);
    const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
    const keyRatio = ratio(whoami, bare);
    process.stdout.write(
      `\nAPI-key GET ÷ bare Fastify: ${keyRatio.toFixed(2)}× (goal ≥ 0.50×: ${verdict(keyRatio >= 0.5)})\n`,
    );
    if (reference) {
      const refRatio = ratio(ownerRead, reference.target);
      process.stdout.write(
        `Hearth owner read ÷ personal-server-ts owner read: ${refRatio.toFixed(2)}× (goal ≥ 5×: ${verdict(refRatio >= 5)})\n`,
      );
    } else {
      process.stdout.write('Hearth owner read ÷ personal-server-ts: not measured\n');
    }
    const ownerRps = rps(ownerRead);
    process.stdout.write(
      `Hearth owner read: ${ownerRps.toFixed(0)} req/s (goal ≥ 2,000: ${verdict(ownerRps >= 2000)})\n` +
        `load average at end ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}\n`,
    );
  } finally {
    await reference?.stop();
    await stopAll(procs);
    await dropDatabase(databaseUrl).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
    rmSync(referenceRoot, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`side-by-side bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
