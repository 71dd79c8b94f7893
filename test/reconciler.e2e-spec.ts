import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobName, OperationQueue } from '@hearth/queue';
import { UnrecoverableError } from 'bullmq';
import { Client } from 'pg';
import { type RunningGateway, type RunningWorker, startGateway, startWorker } from './support/apps';
import {
  type App,
  grant,
  json,
  newApp,
  newTenant,
  relayerFor,
  submit,
  type Tenant,
  uploadText,
  waitDone,
} from './support/flow';
import { type TcpCut, tcpCut } from './support/tcp-cut';

/*
 * Postgres decides, the queue delivers: an operation whose job is lost is queued again under its id and runs
 * once; one whose job failed for good is ended even when the give-up could not commit at first; a failure no
 * retry can fix fails at once. Real gateway, worker, Postgres, Redis and chain.
 */

const FAST_RECONCILE = { RECONCILE_EVERY_MS: '1000', RECONCILE_GRACE_MS: '300' };

describe('reconciler and retries', () => {
  let gw: RunningGateway;
  let db: Client;
  let tenant: Tenant;
  let app: App;
  let fileId: string;
  let grantId: string;
  let queue: OperationQueue;
  let worker: RunningWorker | undefined;
  let cut: TcpCut | undefined;

  before(async () => {
    // Attempts are stamped on each job by the gateway that enqueues it; backoff and stalls are the worker's.
    gw = await startGateway({ JOB_ATTEMPTS: '2' });
    db = new Client({ connectionString: gw.config.DATABASE_URL });
    await db.connect();
    tenant = await newTenant(gw.url);
    fileId = await uploadText(gw.url, tenant, 'notes.txt', 'The river was high. We moved the boats.');
    app = await newApp(gw.url, tenant);
    grantId = await grant(relayerFor(gw.config), tenant, app.account.address, ['stats'], [fileId]);
    queue = gw.app.get(OperationQueue);
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await cut?.close();
    cut = undefined;
  });

  after(async () => {
    await db?.end();
    await gw?.close();
  });

  const accept = async (): Promise<string> => {
    const res = await submit(gw.url, app, { operation: 'stats', fileIds: [fileId], grantId });
    assert.equal(res.status, 202, await res.clone().text());
    return (await json<{ id: string }>(res)).id;
  };

  const row = async (id: string) =>
    (
      await db.query<{
        status: string;
        error_code: string | null;
        attempts: number;
        requeues: number;
        finished_at: Date | null;
        logged: number;
      }>(
        `SELECT status, error_code, attempts, requeues, finished_at,
                (SELECT count(*)::int FROM access_log WHERE operation_id = $1) AS logged
           FROM operations WHERE id = $1`,
        [id],
      )
    ).rows[0];

  it(
    'a give-up that cannot commit (Postgres down) is retried until it does',
    { timeout: 60_000 },
    async () => {
      const url = new URL(gw.config.DATABASE_URL);
      cut = await tcpCut(url.hostname, Number(url.port || 5432));
      // Two quick attempts, and no reconciler run during the test: the worker's own give-up must commit.
      worker = await startWorker({
        DATABASE_URL: cut.urlFor(gw.config.DATABASE_URL),
        JOB_BACKOFF_MS: '50',
        RECONCILE_EVERY_MS: '3600000',
      });
      await cut.cut();
      const id = await accept();
      // Both attempts fail to claim (Postgres unreachable); the job fails for good and the give-up cannot commit.
      const failed = await until('the job to fail for good', 20_000, async () => {
        const live = await queue.jobLiveness(id);
        return live.state === 'failed' ? live : undefined;
      });
      assert.deepEqual(failed, { state: 'failed', exhausted: true });
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal((await row(id)).status, 'queued', 'nothing committed while Postgres is down');
      const restoredAt = new Date();
      await cut.restore();
      const done = await waitDone(gw.url, app, id, 30_000);
      assert.equal(done.status, 'failed');
      assert.equal(done.error?.code, 'retry_budget_exhausted');
      const r = await row(id);
      assert.ok(r.finished_at! >= new Date(restoredAt.getTime() - 50), 'committed after Postgres came back');
      assert.equal(r.attempts, 0, 'no attempt ever claimed it');
      assert.equal(r.logged, 1, 'one access-log row');
    },
  );

  it('a queued operation whose job was lost is queued again under its id and succeeds once', async () => {
    const id = await accept();
    assert.equal(await queue.queue.remove(id), 1, 'the job is gone from Redis');
    assert.deepEqual(await queue.jobLiveness(id), { state: 'missing' });
    worker = await startWorker(FAST_RECONCILE);
    const done = await waitDone(gw.url, app, id, 30_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    const r = await row(id);
    assert.deepEqual(
      [r.requeues, r.attempts, r.logged],
      [1, 1, 1],
      'queued again once, run once, logged once',
    );
    const usage = await db.query<{ n: number }>(
      `SELECT coalesce(sum(operations), 0)::int AS n FROM usage_daily WHERE server_id = $1`,
      [tenant.serverId],
    );
    assert.ok(usage.rows[0].n >= 1);
  });

  it('a job lost more often than RECONCILE_MAX_REQUEUES ends the operation lost_in_queue', async () => {
    const id = await accept();
    await queue.queue.remove(id);
    worker = await startWorker({ ...FAST_RECONCILE, RECONCILE_MAX_REQUEUES: '0' });
    const done = await waitDone(gw.url, app, id, 30_000);
    assert.equal(done.status, 'failed');
    assert.equal(done.error?.code, 'lost_in_queue');
    assert.equal((await row(id)).logged, 1);
  });

  it('a job failed for good whose give-up never ran is ended by the reconciler', async () => {
    const id = await accept();
    // A consumer without a give-up (as if its worker died right after the job failed for good).
    const bare = new OperationQueue({ redisUrl: gw.config.REDIS_URL, prefix: gw.config.QUEUE_PREFIX });
    const consumer = bare.consume(
      (job) => {
        if (job.name !== String(JobName.RunOperation)) return Promise.resolve();
        throw new UnrecoverableError('refused');
      },
      { concurrency: 1, lockMs: 30_000 },
    );
    await until('the job to fail for good', 10_000, async () =>
      (await queue.jobLiveness(id)).state === 'failed' ? true : undefined,
    );
    await consumer.close();
    await bare.close();
    assert.equal((await row(id)).status, 'queued');
    worker = await startWorker(FAST_RECONCILE);
    const done = await waitDone(gw.url, app, id, 30_000);
    assert.equal(done.status, 'failed');
    assert.equal(done.error?.code, 'execution_failed', 'a deterministic failure, not an exhausted budget');
  });

  it('a failure no retry can fix fails at once, on its first attempt', async () => {
    // No contract address known to this worker: every attempt would fail the same way.
    worker = await startWorker({
      HEARTH_HOME: mkdtempSync(join(tmpdir(), 'hearth-no-deployment-')),
      DATA_PERMISSIONS_ADDRESS: '',
    });
    assert.equal(worker.config.dataPermissionsAddress, undefined);
    const id = await accept();
    const done = await waitDone(gw.url, app, id, 30_000);
    assert.equal(done.status, 'failed');
    assert.equal(done.error?.code, 'execution_failed');
    const r = await row(id);
    assert.equal(r.attempts, 1, 'one attempt, no retry');
    const job = await queue.queue.getJob(id);
    assert.equal(job?.attemptsMade, 1);
  });
});

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
