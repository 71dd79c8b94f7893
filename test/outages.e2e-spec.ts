import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JobName, OperationQueue } from '@hearth/queue';
import { WorkerHealthServer } from '../apps/worker/src/worker-health.server';
import {
  problemOf,
  type RunningGateway,
  type RunningWorker,
  startGateway,
  startWorker,
} from './support/apps';
import { DisposableRedis } from './faults/support/servers';
import { type FakeKms, startFakeKms } from './support/fake-kms';
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
import { bearer } from './support/siwe';
import { type TcpCut, tcpCut } from './support/tcp-cut';

/*
 * Outages answered as outages: while Redis, Postgres or the key manager is unreachable the gateway answers 503
 * with the dependency's code and Retry-After, never a 500, result reads included; readiness names each
 * dependency. Real gateway and worker on a Redis of their own (stopped by the test), Postgres through a
 * pass-through the test cuts, the wire-level fake KMS (closed by the test), and the dev chain.
 */

describe('outages answered as outages', () => {
  let redis: DisposableRedis;
  let kms: FakeKms;
  let pg: TcpCut;
  let gw: RunningGateway;
  let worker: RunningWorker;
  let tenant: Tenant;
  let app: App;
  let fileId: string;
  let grantId: string;
  let succeeded: string;

  let home: string;

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'hearth-outages-'));
    redis = await DisposableRedis.create(home);
    kms = await startFakeKms();
    const url = new URL(process.env.DATABASE_URL!);
    pg = await tcpCut(url.hostname, Number(url.port || 5432));
    const env = {
      REDIS_URL: redis.url,
      DATABASE_URL: pg.urlFor(process.env.DATABASE_URL!),
      KMS_PROVIDER: 'aws',
      KMS_ENDPOINT: kms.endpoint,
      AWS_REGION: kms.region,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      // Bounds the worker's close after the Redis restart below (BullMQ's own close may wait forever then).
      JOB_TIMEOUT_MS: '5000',
    };
    gw = await startGateway(env);
    worker = await startWorker(env);
    tenant = await newTenant(gw.url);
    fileId = await uploadText(gw.url, tenant, 'notes.txt', 'The river was high. We moved the boats up.');
    app = await newApp(gw.url, tenant);
    grantId = await grant(relayerFor(gw.config), tenant, app.account.address, ['stats'], [fileId]);
    const res = await submit(gw.url, app, { operation: 'stats', fileIds: [fileId], grantId });
    succeeded = (await json<{ id: string }>(res)).id;
    assert.equal((await waitDone(gw.url, app, succeeded)).status, 'succeeded');
  });

  after(async () => {
    await worker?.close();
    await gw?.close();
    await redis?.stop();
    rmSync(home, { recursive: true, force: true });
    await kms?.close().catch(() => undefined); // closed by a test already
    await pg?.close();
  });

  const expectOutage = async (res: Response, code: string, what: string) => {
    const body = await problemOf(res);
    assert.equal(res.status, 503, `${what}: ${JSON.stringify(body)}`);
    assert.equal(body.code, code, what);
    assert.ok(Number(res.headers.get('retry-after')) > 0, `${what}: Retry-After`);
  };

  it('readiness of gateway and worker names each dependency, and warns of a Redis keeping nothing', async () => {
    const res = await fetch(`${gw.url}/health/ready`);
    const body = (await res.json()) as { details: Record<string, { status: string; warning?: string }> };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(Object.keys(body.details).sort(), ['chain', 'database', 'keyManager', 'redis']);
    assert.match(body.details.redis.warning ?? '', /persists nothing/);
    const port = worker.app.get(WorkerHealthServer).port();
    const wres = await fetch(`http://127.0.0.1:${port}/health/ready`);
    const wbody = (await wres.json()) as {
      checks: Record<string, { status: string }>;
      redisPersistence: string;
      warnings?: string[];
    };
    assert.equal(wres.status, 200, JSON.stringify(wbody));
    assert.deepEqual(Object.keys(wbody.checks).sort(), ['chain', 'database', 'keyManager', 'queue', 'redis']);
    assert.equal(wbody.redisPersistence, 'none');
    assert.match(wbody.warnings?.[0] ?? '', /persists nothing/);
  });

  it('the key manager down: a result read is 503 key_manager_unavailable, and readiness says so', async () => {
    await kms.close();
    const res = await fetch(`${gw.url}/v1/operations/${succeeded}`, { headers: bearer(app.key) });
    await expectOutage(res, 'key_manager_unavailable', 'GET a succeeded operation');
    const ready = await fetch(`${gw.url}/health/ready`);
    const body = (await ready.json()) as { error?: Record<string, unknown> };
    assert.equal(ready.status, 503);
    assert.deepEqual(Object.keys(body.error ?? {}), ['keyManager']);
    const port = worker.app.get(WorkerHealthServer).port();
    const wready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    const wbody = (await wready.json()) as { checks: Record<string, { status: string }> };
    assert.equal(wready.status, 503);
    assert.equal(wbody.checks.keyManager.status, 'down');
  });

  it('Postgres down: every route answers 503 database_unavailable, then works again', async () => {
    await pg.cut();
    try {
      await expectOutage(
        await fetch(`${gw.url}/v1/operations/${succeeded}`, { headers: bearer(app.key) }),
        'database_unavailable',
        'GET an operation',
      );
      await expectOutage(
        await submit(gw.url, app, { operation: 'stats', fileIds: [fileId], grantId }),
        'database_unavailable',
        'POST an operation',
      );
      await expectOutage(
        await fetch(`${gw.url}/v1/servers`, { headers: bearer(tenant.token) }),
        'database_unavailable',
        'GET servers (a session)',
      );
    } finally {
      await pg.restore();
    }
    const back = await fetch(`${gw.url}/v1/servers`, { headers: bearer(tenant.token) });
    assert.equal(back.status, 200);
  });

  it('Redis down: API-key routes answer 503 queue_unavailable at once (rate limits), never 500', async () => {
    await redis.kill();
    try {
      const started = Date.now();
      await expectOutage(
        await submit(gw.url, app, { operation: 'stats', fileIds: [fileId], grantId }),
        'queue_unavailable',
        'POST an operation',
      );
      await expectOutage(
        await fetch(`${gw.url}/v1/operations/${succeeded}`, { headers: bearer(app.key) }),
        'queue_unavailable',
        'GET an operation',
      );
      assert.ok(Date.now() - started < 5000, 'failed fast, not after timeouts');
      const ready = await fetch(`${gw.url}/health/ready`);
      const body = (await ready.json()) as { error?: Record<string, unknown> };
      assert.equal(ready.status, 503);
      assert.ok(body.error?.redis, JSON.stringify(body));
    } finally {
      await redis.start();
    }
    // That Redis kept nothing: the worker registers its job schedulers again once it is reconnected.
    const look = new OperationQueue({ redisUrl: redis.url, prefix: gw.config.QUEUE_PREFIX });
    try {
      const deadline = Date.now() + 20_000;
      let names: string[] = [];
      while (Date.now() < deadline) {
        names = (await look.queue.getJobSchedulers()).map((j) => j.name).sort();
        if (names.length === 2) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(names, [JobName.PurgeExpiredResults, JobName.ReconcileOperations]);
    } finally {
      await look.close();
    }
  });
});
