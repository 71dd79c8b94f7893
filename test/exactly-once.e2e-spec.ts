import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JobName, OperationQueue } from '@hearth/queue';
import { Client } from 'pg';
import { verifyTypedData } from 'viem';
import { type RunningGateway, startGateway } from './support/apps';
import { bearer } from './support/siwe';
import {
  type App,
  grant,
  json,
  newApp,
  newTenant,
  type OperationBody,
  relayerFor,
  submit,
  type Tenant,
  uploadText,
} from './support/flow';
import { freePort } from '../scripts/lib/processes';

/*
 * "A job that dies mid-way (process killed) is retried and finishes exactly once as seen by the app."
 * The real worker runs as its own process; the test SIGKILLs it mid-job (its lock expires, another worker
 * retries the job) and SIGKILLs its isolated child mid-job (the attempt fails, BullMQ retries it), several
 * times, then checks what the app and the owner see: one success, one access-log row, one usage count and one
 * stable receipt per operation, nothing stuck.
 */

const N = 12;
const JOB_LOCK_MS = 1500;
// Its own queue: test files run in parallel and another file's worker must not take these jobs.
const QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'hearth-test'}-exactly-once`;
const WORKER_MAIN = join(__dirname, '../apps/worker/src/main.js');
// A few hundred ms of work per job, so kills land mid-job even on a busy machine.
const TEXT = Array.from(
  { length: 1500 },
  (_, i) =>
    `Entry ${i}: the garden needed water again, so I walked to the river and talked with Ada about the harvest. `,
).join('');

/**
 * Test files run in parallel and relay grants from the same dev relayer account: two relays at once can race
 * on the transaction nonce (nothing reaches the chain then), so a nonce clash is retried.
 */
async function grantRetrying(...args: Parameters<typeof grant>): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await grant(...args);
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : '';
      if (attempt >= 5 || !/nonce/i.test(cause)) throw err;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value, or throws after `timeoutMs` naming what it waited for. */
async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

interface WorkerProcess {
  proc: ChildProcess;
  pid: number;
  exited: Promise<void>;
  stderr: () => string;
}

/** Direct children of a process, from /proc (the worker's isolated children are forked by it). */
function childPids(ppid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) are: state ppid ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid && fields[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // why: the process ended while we listed /proc.
    }
  }
  return pids;
}

/** A process and every process under it: a sandboxed child is bubblewrap with node beneath it. */
function processTree(pid: number): number[] {
  return [pid, ...childPids(pid).flatMap(processTree)];
}

/** CPU time (user + system, in clock ticks) a process has used. */
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return -1;
  }
}

function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/stat`)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function startWorkerProcess(): Promise<WorkerProcess> {
  const port = await freePort();
  const proc = spawn(process.execPath, [WORKER_MAIN], {
    env: {
      ...process.env,
      QUEUE_PREFIX,
      JOB_LOCK_MS: String(JOB_LOCK_MS),
      WORKER_HEALTH_PORT: String(port),
      LOG_LEVEL: 'warn',
      // One job (so one child) at a time: the child killed is the one running the operation.
      WORKER_CONCURRENCY: '1',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  await until(
    'the worker to be ready',
    90_000,
    async () => {
      if (exitedEarly) throw new Error(`worker exited while starting: ${stderr}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
        await res.arrayBuffer();
        return res.status === 200 ? true : undefined;
      } catch {
        return undefined;
      }
    },
    100,
  );
  return { proc, pid: proc.pid!, exited, stderr: () => stderr };
}

describe('exactly once under crashes (worker process and isolated child SIGKILLed mid-job)', () => {
  let gw: RunningGateway;
  let db: Client;
  let tenant: Tenant;
  let app: App;
  let fileId: string;
  let grantId: string;
  let worker: WorkerProcess | undefined;
  const workersStarted: WorkerProcess[] = [];

  before(async () => {
    gw = await startGateway({ QUEUE_PREFIX });
    db = new Client({ connectionString: gw.config.DATABASE_URL });
    await db.connect();
    tenant = await newTenant(gw.url);
    fileId = await uploadText(gw.url, tenant, 'diary.txt', TEXT);
    app = await newApp(gw.url, tenant);
    grantId = await grantRetrying(relayerFor(gw.config), tenant, app.account.address, ['stats'], [fileId]);
  });

  after(async () => {
    for (const w of workersStarted)
      if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
    await db?.end();
    await gw?.close();
  });

  const dbNow = async (): Promise<Date> => (await db.query<{ now: Date }>('SELECT now() AS now')).rows[0].now;

  /** An operation claimed at or after `since` and still running: a job in flight right now. */
  const runningSince = async (since: Date): Promise<{ id: string; attempts: number } | null | undefined> => {
    const { rows } = await db.query<{ id: string; attempts: number; open: string }>(
      `SELECT id, attempts, (SELECT count(*) FROM operations WHERE server_id = $1 AND status IN ('queued', 'running')) AS open
         FROM operations WHERE server_id = $1 AND status = 'running' AND started_at >= $2
         ORDER BY started_at DESC LIMIT 1`,
      [tenant.serverId, since],
    );
    if (rows.length) return { id: rows[0].id, attempts: rows[0].attempts };
    const open = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM operations WHERE server_id = $1 AND status IN ('queued', 'running')`,
      [tenant.serverId],
    );
    return Number(open.rows[0].n) === 0 ? null : undefined;
  };

  it(
    'every operation succeeds exactly once, with one access-log row, one usage count and one stable receipt',
    { timeout: 300_000 },
    async () => {
      worker = await startWorkerProcess();
      workersStarted.push(worker);
      let since = await dbNow();

      const ids: string[] = [];
      for (let i = 0; i < N; i++) {
        const res = await submit(gw.url, app, {
          operation: 'stats',
          fileIds: [fileId],
          parameters: {},
          grantId,
        });
        assert.equal(res.status, 202, await res.clone().text());
        ids.push((await json<{ id: string }>(res)).id);
      }

      const kills = { worker: 0, child: 0 };
      const childPidsSeen = new Set<number>();
      // Operation id → its attempts when its child was killed (a kill lands mid-job if the operation ran again).
      const childKilled = new Map<string, number>();
      // Alternate: kill the worker process, kill the busy child, ... while operations are still open.
      for (let round = 0; round < 6; round++) {
        const current: WorkerProcess = worker;
        if (round % 2 === 0) {
          const running = await until('an operation to be running', 120_000, () => runningSince(since), 10);
          if (running === null) break; // everything finished already
          for (const pid of childPids(current.pid).flatMap(processTree)) childPidsSeen.add(pid);
          current.proc.kill('SIGKILL');
          await current.exited;
          kills.worker++;
          since = await dbNow();
          worker = await startWorkerProcess();
          workersStarted.push(worker);
          continue;
        }
        // The child is warm once a job has finished since the last crash: from then on it burns CPU only while it
        // runs a job, which tells a job in the child from one still loading its ciphertext in the worker.
        const warm = await until(
          'a job to finish after the last crash',
          120_000,
          async () => {
            const { rows } = await db.query<{ done: string; open: string }>(
              `SELECT count(*) FILTER (WHERE finished_at >= $2) AS done, count(*) FILTER (WHERE status IN ('queued', 'running')) AS open
             FROM operations WHERE server_id = $1`,
              [tenant.serverId, since],
            );
            if (Number(rows[0].open) === 0) return null;
            return Number(rows[0].done) > 0 ? true : undefined;
          },
          50,
        );
        if (warm === null) break;
        let seen: { pid: number; opId: string; ticks: number } | undefined;
        const target = await until(
          'a job to run in the child',
          120_000,
          async () => {
            const r = await runningSince(since);
            if (r === null) return null;
            // Only an operation's first attempt: each loses at most one of its three BullMQ attempts to a child kill.
            if (!r || r.attempts > 1 || childKilled.has(r.id)) return undefined;
            // Concurrency 1 in pooled mode: exactly one child, the one that runs the job.
            const children = childPids(current.pid);
            if (children.length !== 1) return undefined;
            // The process that runs the job is the deepest one (node inside its sandbox, if sandboxed).
            const tree = processTree(children[0]);
            const runner = tree[tree.length - 1];
            const ticks = cpuTicks(runner);
            if (!seen || seen.pid !== runner || seen.opId !== r.id) {
              seen = { pid: runner, opId: r.id, ticks };
              for (const pid of tree) childPidsSeen.add(pid);
              return undefined;
            }
            return ticks - seen.ticks >= 3 ? { pid: runner, op: r } : undefined;
          },
          10,
        );
        if (target === null) break;
        childPidsSeen.add(target.pid);
        process.kill(target.pid, 'SIGKILL');
        childKilled.set(target.op.id, target.op.attempts);
        kills.child++;
        since = await dbNow();
      }

      // Everything ends.
      const finalRows = await until(
        'every operation to end',
        180_000,
        async () => {
          const { rows } = await db.query<{
            id: string;
            status: string;
            attempts: number;
            receipt_hash: string | null;
            worker_ms: number | null;
          }>(
            `SELECT id, status, attempts, receipt_hash, (timings->>'totalWorkerMs')::float AS worker_ms FROM operations WHERE id = ANY($1)`,
            [ids],
          );
          return rows.every((r) => !['queued', 'running'].includes(r.status)) ? rows : undefined;
        },
        200,
      );
      const attemptsOf = new Map(finalRows.map((r) => [r.id, r.attempts]));
      const childKillsMidJob = [...childKilled].filter(([id, before]) => attemptsOf.get(id)! > before).length;
      const retried = finalRows.filter((r) => r.attempts > 1);
      process.stdout.write(
        `# kills: ${kills.worker} worker, ${kills.child} child (${childKillsMidJob} mid-job); ${retried.length}/${N} operations ran more than once ` +
          `(attempts: ${finalRows.map((r) => r.attempts).join(',')}); workers started: ${workersStarted.length}; ` +
          `worker ms per job: ${finalRows.map((r) => Math.round(r.worker_ms ?? 0)).join(',')}\n`,
      );
      assert.ok(kills.worker >= 2, `the worker was killed mid-job (${JSON.stringify(kills)})`);
      assert.ok(
        childKillsMidJob >= 2,
        `children were killed mid-job (${childKillsMidJob} of ${kills.child} kills landed in a job)`,
      );
      assert.ok(retried.length >= 2, 'some operations were retried after a crash');

      // (1) The app sees each operation succeed, with one receipt that stays the same across reads.
      for (const id of ids) {
        const first = await json<OperationBody>(
          await fetch(`${gw.url}/v1/operations/${id}`, { headers: bearer(app.key) }),
        );
        assert.equal(first.status, 'succeeded', `${id}: ${JSON.stringify(first.error)}`);
        assert.ok(first.receipt, `${id} has a receipt`);
        const again = await json<OperationBody>(
          await fetch(`${gw.url}/v1/operations/${id}`, { headers: bearer(app.key) }),
        );
        assert.deepEqual(again.receipt, first.receipt, `${id}: the receipt is stable across reads`);
        assert.deepEqual(again.result, first.result);
        const message = first.receipt.typedData.message as Record<string, string>;
        assert.equal(message.operationId, id);
        const typedData = first.receipt.typedData as Parameters<typeof verifyTypedData>[0];
        assert.equal(
          await verifyTypedData({
            ...typedData,
            address: tenant.serverAddress,
            signature: first.receipt.signature,
          }),
          true,
        );
      }

      // (2) The owner's audit trail: exactly one access-log row per operation, carrying that operation's receipt.
      const log = await db.query<{ operation_id: string; n: string; outcomes: string[]; hashes: string[] }>(
        `SELECT operation_id, count(*) AS n, array_agg(outcome) AS outcomes, array_agg(receipt_hash) AS hashes
         FROM access_log WHERE server_id = $1 GROUP BY operation_id`,
        [tenant.serverId],
      );
      assert.equal(log.rows.length, N, 'one access-log group per operation, no strays');
      const hashOf = new Map(finalRows.map((r) => [r.id, r.receipt_hash]));
      for (const row of log.rows) {
        assert.ok(ids.includes(row.operation_id));
        assert.equal(Number(row.n), 1, `${row.operation_id} logged once`);
        assert.deepEqual(row.outcomes, ['succeeded']);
        assert.equal(
          row.hashes[0],
          hashOf.get(row.operation_id),
          'the logged receipt is the one the app gets',
        );
      }
      const audit = await json<{ items: Array<{ operationId: string }> }>(
        await fetch(`${gw.url}/v1/servers/${tenant.serverId}/access-log?limit=200`, {
          headers: bearer(tenant.token),
        }),
      );
      assert.deepEqual(audit.items.map((r) => r.operationId).sort(), [...ids].sort());

      // (3) Usage: counted once per operation.
      const usage = await db.query<{ operations: string }>(
        `SELECT coalesce(sum(operations), 0) AS operations FROM usage_daily WHERE server_id = $1 AND api_key_id = $2`,
        [tenant.serverId, app.keyId],
      );
      assert.equal(Number(usage.rows[0].operations), N);

      // (4) Nothing stuck or dead in the queue, and no job failed for good.
      const operations = new OperationQueue({ redisUrl: gw.config.REDIS_URL, prefix: QUEUE_PREFIX });
      const { queue } = operations;
      try {
        // Only operation jobs: the purge job scheduler always keeps its next run delayed.
        const left = await until(
          'the queue to settle',
          30_000,
          async () => {
            const open = await queue.getJobs(['active', 'wait', 'prioritized', 'delayed', 'paused']);
            if (open.some((j) => j.name === (JobName.RunOperation as string))) return undefined;
            return (await queue.getJobs(['failed'])).filter(
              (j) => j.name === (JobName.RunOperation as string),
            );
          },
          200,
        );
        assert.deepEqual(
          left.map((j) => `${j.id}: ${j.failedReason}`),
          [],
          'no operation job is left behind or failed for good',
        );
      } finally {
        await operations.close();
      }

      // (5) The last worker stops cleanly; the children of the killed workers did not outlive them.
      for (const pid of childPids(worker.pid).flatMap(processTree)) childPidsSeen.add(pid);
      worker.proc.kill('SIGTERM');
      await worker.exited;
      assert.equal(worker.proc.exitCode, 0, worker.stderr());
      const leftovers = await until(
        'isolated children to exit',
        30_000,
        () => {
          const live = [...childPidsSeen].filter(alive);
          return Promise.resolve(live.length === 0 ? live : undefined);
        },
        200,
      ).catch(() => [...childPidsSeen].filter(alive));
      assert.deepEqual(leftovers, [], 'no isolated child outlives its worker');
    },
  );
});
