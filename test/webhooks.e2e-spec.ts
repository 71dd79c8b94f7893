import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  problemOf,
  type RunningGateway,
  type RunningWorker,
  startGateway,
  startWorker,
} from './support/apps';
import {
  json,
  newApp,
  newTenant,
  ownerClient,
  submit,
  type Tenant,
  uploadText,
  waitDone,
} from './support/flow';
import { bearer } from './support/siwe';
import { Receiver, verifiedBy } from './support/webhook-receiver';
import { verifyWebhookSignature } from '@hearth/sdk';

interface WebhookCreated {
  id: string;
  url: string;
  events: string[] | null;
  status: string;
  secret: string;
}

interface EventBody {
  id: string;
  type: string;
  createdAt: string;
  serverId: string;
  data: Record<string, unknown>;
}

const ownerJson = (t: Tenant) => ({ ...bearer(t.token), 'content-type': 'application/json' });

async function createWebhook(url: string, t: Tenant, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${url}/v1/servers/${t.serverId}/webhooks`, {
    method: 'POST',
    headers: ownerJson(t),
    body: JSON.stringify(body),
  });
}

const WORKER_SETTINGS = {
  WEBHOOK_ALLOW_LOOPBACK: 'true',
  WEBHOOK_DISPATCH_EVERY_MS: '200',
  WEBHOOK_ATTEMPTS: '2',
  WEBHOOK_BACKOFF_MS: '50',
  WEBHOOK_MAX_FAILURES: '2',
  WEBHOOK_TIMEOUT_MS: '5000',
};

describe('owner events and webhooks', () => {
  let gw: RunningGateway;
  let worker: RunningWorker;
  let receiver: Receiver;
  let receiverUrl: string;

  before(async () => {
    gw = await startGateway({ WEBHOOK_ALLOW_LOOPBACK: 'true' });
    worker = await startWorker(WORKER_SETTINGS);
    receiver = new Receiver();
    receiverUrl = await receiver.start();
  });
  after(async () => {
    await worker.close();
    await gw.close();
    await receiver.close();
  });

  it('delivers api_key.created, grant.added, operation.succeeded and grant.revoked, signed so a receiver can verify them', async () => {
    const owner = await newTenant(gw.url);
    const res = await createWebhook(gw.url, owner, { url: `${receiverUrl}/ok` });
    assert.equal(res.status, 201, await res.clone().text());
    const hook = await json<WebhookCreated>(res);
    assert.match(hook.id, /^whk_[0-9a-f]{32}$/);
    assert.match(hook.secret, /^whsec_/);
    assert.equal(hook.events, null);
    assert.equal(hook.status, 'active');

    const fileId = await uploadText(
      gw.url,
      owner,
      'diary.txt',
      'Monday was calm. Tuesday was busy and good.',
    );
    const app = await newApp(gw.url, owner);
    // Through the gateway's grant route (the owner's wallet signs): the route records grant.added.
    const sdk = ownerClient(gw.url, owner.token);
    const { grantId } = await sdk.grant(
      owner.serverId,
      { appAddress: app.account.address, operations: ['summarize'], fileIds: [fileId] },
      owner.owner,
    );
    const submitted = await submit(gw.url, app, {
      operation: 'summarize',
      fileIds: [fileId],
      parameters: { sentences: 1 },
      grantId,
    });
    const { id: operationId } = await json<{ id: string }>(submitted);
    assert.equal((await waitDone(gw.url, app, operationId)).status, 'succeeded');

    const mine = () =>
      receiver.received
        .filter((r) => r.path === '/ok' && r.headers['hearth-webhook-id'] === hook.id)
        .map((r) => ({ r, body: JSON.parse(r.raw) as EventBody }));
    await sdk.revokeGrant(owner.serverId, grantId, owner.owner);
    const expected = ['api_key.created', 'grant.added', 'operation.succeeded', 'grant.revoked'];
    await receiver.until(() => {
      const types = mine().map((m) => m.body.type);
      return expected.every((t) => types.includes(t));
    });
    const added = mine().find((m) => m.body.type === 'grant.added')!.body;
    assert.equal(added.data.grantId, grantId);
    assert.equal(added.data.appAddress, app.account.address);
    assert.match(String(added.data.txHash), /^0x[0-9a-f]{64}$/);
    assert.equal(mine().find((m) => m.body.type === 'grant.revoked')!.body.data.grantId, grantId);

    for (const { r, body } of mine()) {
      assert.equal(body.serverId, owner.serverId);
      assert.equal(r.headers['hearth-event-id'], body.id);
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(verifiedBy(hook.secret, String(r.headers['hearth-signature']), r.raw, r.at), true);
      const sdkVerified = await verifyWebhookSignature(
        hook.secret,
        String(r.headers['hearth-signature']),
        r.raw,
        {
          now: r.at,
        },
      );
      assert.equal(sdkVerified, true, 'the SDK helper agrees');
      assert.equal(verifiedBy('whsec_wrong', String(r.headers['hearth-signature']), r.raw, r.at), false);
      assert.equal(verifiedBy(hook.secret, String(r.headers['hearth-signature']), r.raw, r.at + 301), false);
      // Ids and codes only: no file name, no content, no file id list.
      assert.ok(!r.raw.includes('diary') && !r.raw.includes('Tuesday') && !r.raw.includes(fileId), r.raw);
    }
    const created = mine().find((m) => m.body.type === 'api_key.created')!.body;
    assert.deepEqual(created.data, { apiKeyId: app.keyId, appAddress: app.account.address.toLowerCase() });
    const succeeded = mine().find((m) => m.body.type === 'operation.succeeded')!.body;
    assert.equal(succeeded.data.operationId, operationId);
    assert.equal(succeeded.data.operation, 'summarize');
    assert.equal(succeeded.data.grantId, grantId);
    assert.equal(succeeded.data.code, null);

    // The feed lists the same events, newest first, and filters by type.
    const feed = await json<{ items: EventBody[]; nextCursor: string | null }>(
      await fetch(`${gw.url}/v1/servers/${owner.serverId}/events`, { headers: bearer(owner.token) }),
    );
    const ids = feed.items.map((e) => e.id);
    assert.ok(ids.includes(created.id) && ids.includes(succeeded.id));
    assert.ok(ids.indexOf(succeeded.id) < ids.indexOf(created.id), 'newest first');
    const onlyOps = await json<{ items: EventBody[] }>(
      await fetch(`${gw.url}/v1/servers/${owner.serverId}/events?type=operation.succeeded&limit=1`, {
        headers: bearer(owner.token),
      }),
    );
    assert.deepEqual(
      onlyOps.items.map((e) => e.id),
      [succeeded.id],
    );

    const log = await json<{ items: Array<{ eventId: string; attempt: number; statusCode: number | null }> }>(
      await fetch(`${gw.url}/v1/servers/${owner.serverId}/webhooks/${hook.id}/deliveries`, {
        headers: bearer(owner.token),
      }),
    );
    const delivered = log.items.find((d) => d.eventId === succeeded.id);
    assert.equal(delivered?.statusCode, 204);
    assert.equal(delivered?.attempt, 1);
  });

  it('retries a failing receiver, then disables the webhook after the limit with a webhook.disabled event', async () => {
    const owner = await newTenant(gw.url);
    const hook = await json<WebhookCreated>(
      await createWebhook(gw.url, owner, { url: `${receiverUrl}/fail`, events: ['api_key.created'] }),
    );
    assert.deepEqual(hook.events, ['api_key.created']);
    await newApp(gw.url, owner);
    await newApp(gw.url, owner);

    const listWebhooks = async () =>
      json<{ items: Array<{ id: string; status: string; consecutiveFailures: number }> }>(
        await fetch(`${gw.url}/v1/servers/${owner.serverId}/webhooks`, { headers: bearer(owner.token) }),
      );
    const fails = () => receiver.received.filter((r) => r.headers['hearth-webhook-id'] === hook.id);
    // Two events, two attempts each.
    await receiver.until(() => fails().length >= 4);
    const perEvent = new Map<string, number>();
    for (const r of fails())
      perEvent.set(
        String(r.headers['hearth-event-id']),
        (perEvent.get(String(r.headers['hearth-event-id'])) ?? 0) + 1,
      );
    assert.deepEqual([...perEvent.values()], [2, 2], 'each event retried once');

    const deadline = Date.now() + 30_000;
    let disabledEvent: EventBody | undefined;
    while (!disabledEvent) {
      assert.ok(Date.now() < deadline, 'webhook.disabled recorded in time');
      const feed = await json<{ items: EventBody[] }>(
        await fetch(`${gw.url}/v1/servers/${owner.serverId}/events?type=webhook.disabled`, {
          headers: bearer(owner.token),
        }),
      );
      disabledEvent = feed.items[0];
      if (!disabledEvent) await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(disabledEvent.data, { webhookId: hook.id, consecutiveFailures: 2 });
    const [listed] = (await listWebhooks()).items;
    assert.equal(listed.status, 'disabled');
    assert.equal(listed.consecutiveFailures, 2);

    const log = await json<{
      items: Array<{ id: string; attempt: number; statusCode: number | null; errorCode: string | null }>;
    }>(
      await fetch(`${gw.url}/v1/servers/${owner.serverId}/webhooks/${hook.id}/deliveries`, {
        headers: bearer(owner.token),
      }),
    );
    assert.equal(log.items.length, 4);
    assert.ok(log.items.every((d) => d.statusCode === 500 && d.errorCode === 'http_status'));
    assert.deepEqual(log.items.map((d) => d.attempt).sort(), [1, 1, 2, 2]);
    const sdk = ownerClient(gw.url, owner.token);
    assert.deepEqual(
      (await sdk.webhooks.deliveries(owner.serverId, hook.id)).items.map((d) => d.id),
      log.items.map((d) => d.id),
    );
    assert.equal((await sdk.webhooks.list(owner.serverId)).items[0].status, 'disabled');
    let sdkEvents = 0;
    for await (const e of sdk.events(owner.serverId, { type: 'webhook.disabled' })) {
      assert.equal(e.data.webhookId, hook.id);
      sdkEvents++;
    }
    assert.equal(sdkEvents, 1);

    // Disabled: a new event is not delivered to it.
    const before = fails().length;
    await newApp(gw.url, owner);
    const feed = await json<{ items: EventBody[] }>(
      await fetch(`${gw.url}/v1/servers/${owner.serverId}/events?type=api_key.created&limit=1`, {
        headers: bearer(owner.token),
      }),
    );
    assert.ok(feed.items[0]);
    // A webhook that takes every type on the same server sees the new event: the dispatch ran past it.
    const witness = await json<WebhookCreated>(
      await createWebhook(gw.url, owner, { url: `${receiverUrl}/ok` }),
    );
    await newApp(gw.url, owner);
    await receiver.until((all) => all.some((r) => r.headers['hearth-webhook-id'] === witness.id));
    assert.equal(fails().length, before, 'nothing more to the disabled webhook');
  });

  it('refuses bad URLs with a code naming url and creates nothing; another owner gets 404 everywhere', async () => {
    const owner = await newTenant(gw.url);
    for (const url of [
      'https://10.0.0.8/hook',
      'https://169.254.169.254/latest',
      'https://[fd00::1]/x',
      'nope',
    ]) {
      const res = await createWebhook(gw.url, owner, { url });
      assert.equal(res.status, 400, url);
      const problem = await problemOf(res);
      assert.equal(problem.errors?.[0].field, 'url', url);
      if (url !== 'nope') {
        assert.equal(problem.code, 'webhook_url_not_allowed');
        assert.equal(problem.errors?.[0].code, 'private_address');
      }
    }
    const bad = await createWebhook(gw.url, owner, { url: `${receiverUrl}/ok`, events: ['file.read'] });
    assert.equal(bad.status, 400);
    const empty = await json<{ items: unknown[] }>(
      await fetch(`${gw.url}/v1/servers/${owner.serverId}/webhooks`, { headers: bearer(owner.token) }),
    );
    assert.deepEqual(empty.items, []);

    const hook = await json<WebhookCreated>(await createWebhook(gw.url, owner, { url: `${receiverUrl}/ok` }));
    const stranger = await newTenant(gw.url);
    const base = `${gw.url}/v1/servers/${owner.serverId}`;
    for (const [method, path] of [
      ['GET', '/events'],
      ['GET', '/webhooks'],
      ['GET', `/webhooks/${hook.id}/deliveries`],
      ['DELETE', `/webhooks/${hook.id}`],
    ] as const) {
      const res = await fetch(`${base}${path}`, { method, headers: bearer(stranger.token) });
      assert.equal(res.status, 404, `${method} ${path}`);
    }
    const own = `${gw.url}/v1/servers/${stranger.serverId}`;
    assert.equal(
      (await fetch(`${own}/webhooks/${hook.id}`, { method: 'DELETE', headers: bearer(stranger.token) }))
        .status,
      404,
    );
    assert.equal(
      (await fetch(`${own}/webhooks/${hook.id}/deliveries`, { headers: bearer(stranger.token) })).status,
      404,
    );
    assert.equal(
      (await fetch(`${base}/webhooks/${hook.id}`, { method: 'DELETE', headers: bearer(owner.token) })).status,
      204,
    );
    assert.equal(
      (await fetch(`${base}/webhooks/${hook.id}/deliveries`, { headers: bearer(owner.token) })).status,
      404,
    );
  });

  it('in production, refuses http and loopback receivers', async () => {
    const production = await startGateway({
      NODE_ENV: 'production',
      WEBHOOK_ALLOW_LOOPBACK: 'false',
      HEARTH_MASTER_KEY_FILE: gw.config.masterKeyFile,
    });
    try {
      const owner = await newTenant(gw.url);
      const http = await createWebhook(production.url, owner, { url: 'http://93.184.216.34/hook' });
      assert.equal(http.status, 400);
      const problem = await problemOf(http);
      assert.equal(problem.code, 'webhook_url_not_allowed');
      assert.deepEqual(
        problem.errors?.map((e) => [e.field, e.code]),
        [['url', 'https_required']],
      );
      const loopback = await createWebhook(production.url, owner, {
        url: receiverUrl.replace('http:', 'https:'),
      });
      assert.equal((await problemOf(loopback)).errors?.[0].code, 'private_address');
      const none = await json<{ items: unknown[] }>(
        await fetch(`${gw.url}/v1/servers/${owner.serverId}/webhooks`, { headers: bearer(owner.token) }),
      );
      assert.deepEqual(none.items, [], 'nothing created');
    } finally {
      await production.close();
    }
  });
});
