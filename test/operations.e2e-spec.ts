import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { verifyTypedData } from 'viem';
import type { GrantRelayer } from '@hearth/permissions';
import {
  problemOf,
  type RunningGateway,
  type RunningWorker,
  startGateway,
  startWorker,
} from './support/apps';
import { WorkerMetrics } from '../apps/worker/src/metrics/worker-metrics';
import { OperationQueue, tenantBacklogKey } from '@hearth/queue';
import IORedis from 'ioredis';
import { bearer } from './support/siwe';
import {
  type App,
  grant,
  json,
  newApp,
  newTenant,
  relayerFor,
  revoke,
  submit,
  type Tenant,
  uploadText,
  waitDone,
} from './support/flow';

const JOURNAL =
  'Tuesday. The dentist appointment is on Thursday at 9:30 with Dr. Okafor. ' +
  'I cooked a lentil curry and read two chapters of a novel. ' +
  'Wednesday was a terrible day: the client rejected the design and my manager blamed the team. ' +
  'Thursday the dentist said my teeth are fine and I met friends for dinner, which made me happy.';

describe('operations pipeline', () => {
  let gw: RunningGateway;
  let worker: RunningWorker;
  let relayer: GrantRelayer;
  let tenant: Tenant;
  let app: App;
  let fileId: string;
  let grantId: string;

  before(async () => {
    gw = await startGateway();
    worker = await startWorker();
    relayer = relayerFor(gw.config);
    tenant = await newTenant(gw.url);
    fileId = await uploadText(gw.url, tenant, 'journal.txt', JOURNAL);
    app = await newApp(gw.url, tenant);
    grantId = await grant(relayer, tenant, app.account.address, ['summarize', 'keywords'], [fileId]);
  });
  after(async () => {
    await worker.close();
    await gw.close();
  });

  it('runs summarize end to end and returns a receipt that verifies with viem', async () => {
    const res = await submit(gw.url, app, {
      operation: 'summarize',
      fileIds: [fileId],
      parameters: { sentences: 1 },
      grantId,
    });
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = await json<{ id: string }>(res);
    const done = await waitDone(gw.url, app, id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.ok(done.receipt);
    const typedData = done.receipt.typedData as Parameters<typeof verifyTypedData>[0];
    assert.equal(
      await verifyTypedData({
        ...typedData,
        address: tenant.serverAddress,
        signature: done.receipt.signature,
      }),
      true,
    );
    const message = done.receipt.typedData.message as Record<string, string>;
    assert.equal(message.operationId, id);
    assert.equal(message.grantId, grantId);
    assert.equal(message.app, app.account.address);
    assert.match(message.blockNumber, /^[0-9]+$/);
    assert.ok(JSON.stringify(done.result).length > 10);
  });

  it('records one access-log row per operation, with the receipt hash, and usage per key', async () => {
    const log = await json<{
      items: Array<{
        operation: string;
        outcome: string;
        receiptHash: string;
        actor: string;
        grantId: string;
      }>;
    }>(await fetch(`${gw.url}/v1/servers/${tenant.serverId}/access-log`, { headers: bearer(tenant.token) }));
    const rows = log.items.filter((r) => r.operation === 'summarize');
    assert.equal(rows.length, 1);
    assert.equal(rows[0].outcome, 'succeeded');
    assert.equal(rows[0].actor, app.account.address);
    assert.equal(rows[0].grantId, grantId);
    assert.match(rows[0].receiptHash, /^0x[0-9a-f]{64}$/);
    const usage = await json<{ items: Array<{ apiKeyId: string; operations: number; inputBytes: number }> }>(
      await fetch(`${gw.url}/v1/servers/${tenant.serverId}/usage`, { headers: bearer(tenant.token) }),
    );
    const mine = usage.items.find((u) => u.apiKeyId === app.keyId);
    assert.ok(mine);
    assert.ok(mine.operations >= 1);
    assert.equal(mine.inputBytes, Buffer.byteLength(JOURNAL) * mine.operations);
  });

  it('refuses before queueing: unknown operation, bad parameters, operation outside the grant, foreign file', async () => {
    const unknown = await submit(gw.url, app, { operation: 'teleport', fileIds: [fileId], grantId });
    assert.equal(unknown.status, 404);
    assert.equal((await problemOf(unknown)).code, 'unknown_operation');
    const bad = await submit(gw.url, app, {
      operation: 'summarize',
      fileIds: [fileId],
      parameters: { sentences: 'many' },
      grantId,
    });
    assert.equal(bad.status, 400);
    const badProblem = await problemOf(bad);
    assert.equal(badProblem.code, 'invalid_parameters');
    assert.ok(badProblem.errors?.some((e) => e.field.includes('sentences')));
    const outside = await submit(gw.url, app, { operation: 'sentiment', fileIds: [fileId], grantId });
    assert.equal(outside.status, 403);
    assert.equal((await problemOf(outside)).errors?.[0].field, 'operation');
    const other = await newTenant(gw.url);
    const foreignFile = await uploadText(gw.url, other, 'x.txt', 'not yours');
    const foreign = await submit(gw.url, app, { operation: 'summarize', fileIds: [foreignFile], grantId });
    assert.equal(foreign.status, 404);
  });

  it('honours Idempotency-Key: same body → same operation, different body → 422', async () => {
    const body = { operation: 'keywords', fileIds: [fileId], parameters: {}, grantId };
    const first = await json<{ id: string }>(await submit(gw.url, app, body, { 'idempotency-key': 'abc-1' }));
    const again = await submit(gw.url, app, body, { 'idempotency-key': 'abc-1' });
    assert.equal(again.status, 202);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal((await json<{ id: string }>(again)).id, first.id);
    const different = await submit(
      gw.url,
      app,
      { ...body, parameters: { top: 3 } },
      { 'idempotency-key': 'abc-1' },
    );
    assert.equal(different.status, 422);
    await waitDone(gw.url, app, first.id);
  });

  it('streams status events over SSE', async () => {
    const { id } = await json<{ id: string }>(
      await submit(gw.url, app, { operation: 'summarize', fileIds: [fileId], grantId }),
    );
    const res = await fetch(`${gw.url}/v1/operations/${id}/events`, { headers: bearer(app.key) });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const text = await res.text();
    const statuses = [...text.matchAll(/"status":"(\w+)"/g)].map((m) => m[1]);
    assert.equal(statuses.at(-1), 'succeeded');
    assert.ok(statuses.length >= 1);
  });

  it('reads every chunk of a file larger than the worker loads inline, beside a small one', async () => {
    // 20 chunks of 64 KiB: past the 16 the run input carries itself, so the worker streams it from the blob store.
    const sentence = 'The river was high after the rain and the ferry ran late. ';
    const big = sentence.repeat(Math.ceil((20 * 64 * 1024) / sentence.length));
    const bigId = await uploadText(gw.url, tenant, 'long-journal.txt', big);
    const statsGrant = await grant(relayer, tenant, app.account.address, ['stats'], [bigId, fileId]);
    const { id } = await json<{ id: string }>(
      await submit(gw.url, app, { operation: 'stats', fileIds: [bigId, fileId], grantId: statsGrant }),
    );
    const done = await waitDone(gw.url, app, id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    const result = done.result as { bytes: number; perDocument: Array<{ fileId: string; bytes: number }> };
    assert.deepEqual(
      result.perDocument.map((d) => [d.fileId, d.bytes]),
      [
        [bigId, Buffer.byteLength(big)],
        [fileId, Buffer.byteLength(JOURNAL)],
      ],
    );
  });

  it("counts finished operations and times each step in the worker's metrics", async () => {
    const { id } = await json<{ id: string }>(
      await submit(gw.url, app, { operation: 'summarize', fileIds: [fileId], grantId }),
    );
    assert.equal((await waitDone(gw.url, app, id)).status, 'succeeded');
    const text = await worker.app.get(WorkerMetrics).registry.metrics();
    const succeeded =
      /hearth_worker_operations_total\{operation="summarize",outcome="succeeded"\} (\d+)/.exec(text);
    assert.ok(succeeded && Number(succeeded[1]) >= 1, text.slice(0, 500));
    for (const step of ['queueWait', 'chain', 'kms', 'engine', 'seal', 'store']) {
      const count = new RegExp(`hearth_worker_operation_step_seconds_count\\{step="${step}"\\} (\\d+)`).exec(
        text,
      );
      assert.ok(count && Number(count[1]) >= 1, `no ${step} timings`);
    }
    assert.match(text, /hearth_worker_children\{state="idle"\} \d+/);
  });

  it('answers with the finished operation under Prefer: wait, and 202 when it does not end in time', async () => {
    const body = { operation: 'summarize', fileIds: [fileId], parameters: { sentences: 1 }, grantId };
    const res = await submit(gw.url, app, body, { Prefer: 'wait=30', 'Idempotency-Key': 'prefer-wait-1' });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('preference-applied'), 'wait=30');
    const done = await json<{ id: string; status: string; result?: unknown; receipt?: unknown }>(res);
    assert.equal(done.status, 'succeeded');
    assert.ok(done.result && done.receipt);
    // Answered from the worker's end event, not the row: yet the same, field for field, as the row read back.
    const stored = await json<Record<string, unknown>>(
      await fetch(`${gw.url}/v1/operations/${done.id}`, { headers: bearer(app.key) }),
    );
    assert.deepEqual(done, stored);
    // a replay of an ended operation answers at once, ended
    const replay = await submit(gw.url, app, body, { Prefer: 'wait=30', 'Idempotency-Key': 'prefer-wait-1' });
    assert.equal(replay.status, 200);
    assert.deepEqual(await json(replay), stored);

    // No worker: the wait runs out and the operation is still queued.
    await worker.close();
    let restarted = false;
    try {
      const started = Date.now();
      const late = await submit(gw.url, app, body, { Prefer: 'wait=1' });
      assert.equal(late.status, 202);
      assert.ok(Date.now() - started >= 900, 'waited');
      const queued = await json<{ id: string; status: string }>(late);
      assert.equal(queued.status, 'queued');
      // without the preference: 202 at once, as always
      const plain = await submit(gw.url, app, body);
      assert.equal(plain.status, 202);
      // a client that gives up while waiting: the operation stays, the gateway carries on
      const leaving = new AbortController();
      setTimeout(() => leaving.abort(), 200);
      await assert.rejects(
        fetch(`${gw.url}/v1/operations`, {
          method: 'POST',
          headers: {
            ...bearer(app.key),
            'content-type': 'application/json',
            Prefer: 'wait=30',
            'Idempotency-Key': 'prefer-wait-left',
          },
          body: JSON.stringify(body),
          signal: leaving.signal,
        }),
      );
      const left = await submit(gw.url, app, body, { 'Idempotency-Key': 'prefer-wait-left' });
      assert.equal(left.status, 202);
      const leftId = (await json<{ id: string }>(left)).id;
      worker = await startWorker();
      restarted = true;
      const first = await waitDone(gw.url, app, queued.id);
      assert.equal(first.status, 'succeeded', JSON.stringify(first.error));
      assert.equal((await waitDone(gw.url, app, (await json<{ id: string }>(plain)).id)).status, 'succeeded');
      assert.equal((await waitDone(gw.url, app, leftId)).status, 'succeeded');
    } finally {
      if (!restarted) worker = await startWorker();
    }
  });

  it('cancels a queued operation: its streams end, it never runs, and its place in the backlog is given back', async () => {
    const body = { operation: 'summarize', fileIds: [fileId], grantId };
    const redis = new IORedis(gw.config.REDIS_URL);
    const backlogKey = tenantBacklogKey(gw.config.QUEUE_PREFIX, tenant.serverId);
    await worker.close(); // nothing takes jobs: the operations stay queued
    let restarted = false;
    try {
      const before = Number((await redis.get(backlogKey)) ?? 0);
      // a request waiting for the outcome (Prefer: wait), and the same operation's id through its Idempotency-Key
      const waiting = submit(gw.url, app, body, { Prefer: 'wait=30', 'Idempotency-Key': 'cancel-me' });
      await new Promise((r) => setTimeout(r, 200));
      const { id } = await json<{ id: string }>(
        await submit(gw.url, app, body, { 'Idempotency-Key': 'cancel-me' }),
      );
      const other = await json<{ id: string }>(await submit(gw.url, app, body));
      assert.equal(Number(await redis.get(backlogKey)), before + 2);
      assert.ok((await redis.ttl(backlogKey)) > 0, 'a drifted counter would not outlive a quiet day');
      const stream = fetch(`${gw.url}/v1/operations/${id}/events`, { headers: bearer(app.key) }).then((r) =>
        r.text(),
      );
      await new Promise((r) => setTimeout(r, 200));
      const stranger = await newApp(gw.url, tenant);
      const foreign = await fetch(`${gw.url}/v1/operations/${id}/cancel`, {
        method: 'POST',
        headers: bearer(stranger.key),
      });
      assert.equal(foreign.status, 404);

      const cancelled = await fetch(`${gw.url}/v1/operations/${id}/cancel`, {
        method: 'POST',
        headers: bearer(app.key),
      });
      assert.equal(cancelled.status, 200);
      assert.equal((await json<{ status: string }>(cancelled)).status, 'cancelled');
      assert.match(await stream, /"status":"cancelled"/);
      const waited = await waiting;
      assert.equal(waited.status, 200);
      assert.equal((await json<{ status: string }>(waited)).status, 'cancelled');
      assert.equal(Number(await redis.get(backlogKey)), before + 1);
      const again = await fetch(`${gw.url}/v1/operations/${id}/cancel`, {
        method: 'POST',
        headers: bearer(app.key),
      });
      assert.equal(again.status, 409);
      assert.equal((await problemOf(again)).code, 'operation_not_cancellable');

      worker = await startWorker();
      restarted = true;
      assert.equal((await waitDone(gw.url, app, other.id)).status, 'succeeded');
      const after = await json<{ status: string; receipt?: unknown }>(
        await fetch(`${gw.url}/v1/operations/${id}`, { headers: bearer(app.key) }),
      );
      assert.equal(after.status, 'cancelled');
      assert.equal(after.receipt, undefined);
      const finished = await fetch(`${gw.url}/v1/operations/${other.id}/cancel`, {
        method: 'POST',
        headers: bearer(app.key),
      });
      assert.equal(finished.status, 409);
    } finally {
      if (!restarted) worker = await startWorker();
      await redis.quit();
    }
  });

  it("lists the key's operations newest first, a page at a time, by status, and only its own", async () => {
    const lister = await newApp(gw.url, tenant);
    const listGrant = await grant(relayer, tenant, lister.account.address, ['stats'], [fileId]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await submit(gw.url, lister, { operation: 'stats', fileIds: [fileId], grantId: listGrant });
      ids.push((await json<{ id: string }>(res)).id);
    }
    for (const id of ids) await waitDone(gw.url, lister, id);
    type ListPage = {
      items: Array<{ id: string; status: string; result?: unknown }>;
      nextCursor: string | null;
    };
    const list = (query: string, key = lister.key) =>
      fetch(`${gw.url}/v1/operations${query}`, { headers: bearer(key) });
    const first = await json<ListPage>(await list('?limit=2'));
    assert.deepEqual(
      first.items.map((o) => o.id),
      [ids[2], ids[1]],
    );
    assert.ok(first.nextCursor);
    assert.ok(first.items.every((o) => o.status === 'succeeded' && o.result === undefined));
    const second = await json<ListPage>(await list(`?limit=2&cursor=${first.nextCursor}`));
    assert.deepEqual(
      second.items.map((o) => o.id),
      [ids[0]],
    );
    assert.equal(second.nextCursor, null);
    assert.equal((await json<ListPage>(await list('?status=queued'))).items.length, 0);
    assert.equal((await json<ListPage>(await list('?status=succeeded'))).items.length, 3);
    // another key of the same server sees none of them
    const others = await json<ListPage>(await list('', app.key));
    assert.ok(others.items.every((o) => !ids.includes(o.id)));
    const bad = await list('?status=done');
    assert.equal(bad.status, 400);
    assert.equal((await problemOf(bad)).errors?.[0]?.field, 'query.status');
  });

  it('another key of the same server cannot see the operation', async () => {
    const { id } = await json<{ id: string }>(
      await submit(gw.url, app, { operation: 'summarize', fileIds: [fileId], grantId }),
    );
    const other = await newApp(gw.url, tenant);
    const res = await fetch(`${gw.url}/v1/operations/${id}`, { headers: bearer(other.key) });
    assert.equal(res.status, 404);
    await waitDone(gw.url, app, id);
  });

  it('a grant revoked after queueing is denied in the worker, logged, and nothing is decrypted', async () => {
    const app2 = await newApp(gw.url, tenant);
    const g = await grant(relayer, tenant, app2.account.address, ['summarize'], [fileId]);
    // Hold the worker so the revoke lands between submit and execution.
    await worker.close();
    const { id } = await json<{ id: string }>(
      await submit(gw.url, app2, { operation: 'summarize', fileIds: [fileId], grantId: g }),
    );
    await revoke(relayer, tenant, g);
    worker = await startWorker();
    const done = await waitDone(gw.url, app2, id);
    assert.equal(done.status, 'denied');
    assert.equal(done.error?.code, 'grant_revoked');
    assert.equal(done.result, undefined);
    const log = await json<{ items: Array<{ operationId: string; outcome: string; code: string }> }>(
      await fetch(`${gw.url}/v1/servers/${tenant.serverId}/access-log`, { headers: bearer(tenant.token) }),
    );
    const row = log.items.find((r) => r.operationId === id);
    assert.equal(row?.outcome, 'denied');
    assert.equal(row?.code, 'grant_revoked');
  });

  it('an unreachable chain at execution time is retried, then denied (chain_unavailable), never allowed', async () => {
    await worker.close();
    const { id } = await json<{ id: string }>(
      await submit(gw.url, app, { operation: 'summarize', fileIds: [fileId], grantId }),
    );
    worker = await startWorker({
      CHAIN_RPC_URL: 'http://127.0.0.1:9',
      CHAIN_TIMEOUT_MS: '500',
      // Every attempt (JOB_ATTEMPTS, stamped by the gateway) meets the outage; quick retries keep the test short.
      JOB_BACKOFF_MS: '10',
      JOB_BACKOFF_MAX_MS: '20',
    });
    const done = await waitDone(gw.url, app, id);
    assert.equal(done.status, 'denied');
    assert.equal(done.error?.code, 'chain_unavailable');
    // The status is recorded before BullMQ counts the last attempt made: read the job once it has.
    const queue = gw.app.get(OperationQueue).queue;
    let attempts = -1;
    for (const until = Date.now() + 5000; Date.now() < until; await sleep(50)) {
      attempts = (await queue.getJob(id))?.attemptsMade ?? -1;
      if (attempts >= gw.config.JOB_ATTEMPTS) break;
    }
    assert.equal(attempts, gw.config.JOB_ATTEMPTS, 'the outage was retried before it was recorded');
    await worker.close();
    worker = await startWorker();
  });
});
