import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HearthApp } from '@hearth/sdk';
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';
import {
  problemOf,
  type RunningGateway,
  type RunningWorker,
  startGateway,
  startWorker,
} from './support/apps';
import { json, newTenant, type Tenant, uploadText } from './support/flow';
import { bearer } from './support/siwe';
import { type Received, Receiver, verifiedBy } from './support/webhook-receiver';

interface JsonTypedData {
  domain: Record<string, unknown>;
  types: Record<string, Array<{ name: string; type: string }>>;
  primaryType: string;
  message: Record<string, unknown>;
}

interface RequestView {
  requestId: string;
  status: string;
  serverId: string;
  serverAddress: string;
  appAddress: string;
  appName: string;
  operations: string[];
  fileIds: string[];
  purpose: string;
  grantId: string | null;
  keyId: string | null;
  keyClaimed: boolean;
}

function sign(account: PrivateKeyAccount, typedData: JsonTypedData): Promise<`0x${string}`> {
  return account.signTypedData(typedData);
}

/** A local endpoint standing in for an app's return URL: resolves each POSTed body in turn. */
async function returnUrlServer(): Promise<{ url: string; next(): Promise<unknown>; close(): Promise<void> }> {
  const bodies: unknown[] = [];
  const waiting: Array<(b: unknown) => void> = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      res.writeHead(204).end();
      const body: unknown = JSON.parse(text);
      const w = waiting.shift();
      if (w) w(body);
      else bodies.push(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hearth-callback`,
    next: () => (bodies.length > 0 ? Promise.resolve(bodies.shift()) : new Promise((r) => waiting.push(r))),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('access requests: an app asks, the owner approves, the app claims its key and runs', () => {
  let gw: RunningGateway;
  let worker: RunningWorker;
  let owner: Tenant;
  let stranger: Tenant;
  let fileA: string;
  let fileB: string;
  let callback: Awaited<ReturnType<typeof returnUrlServer>>;
  let receiver: Receiver;
  let receiverUrl: string;
  const app = privateKeyToAccount(generatePrivateKey());
  const otherWallet = privateKeyToAccount(generatePrivateKey());

  function call(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
    headers: Record<string, string> = {},
  ) {
    return fetch(`${gw.url}${path}`, {
      method,
      headers: {
        ...(token ? bearer(token) : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function requestTypedData(extra: Record<string, unknown> = {}): Promise<JsonTypedData> {
    const res = await call('POST', '/v1/access-requests/typed-data', {
      server: owner.owner.address,
      appAddress: app.address,
      operations: ['stats'],
      fileIds: [fileA],
      purpose: 'Counts the words of your journal',
      appName: 'Word counter',
      ...extra,
    });
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { typedData: JsonTypedData }).typedData;
  }

  async function file(typedData: JsonTypedData, signer = app): Promise<Response> {
    return call('POST', '/v1/access-requests', { typedData, signature: await sign(signer, typedData) });
  }

  async function newRequest(extra: Record<string, unknown> = {}): Promise<string> {
    const res = await file(await requestTypedData(extra));
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as { requestId: string }).requestId;
  }

  async function ownerRequestCount(): Promise<number> {
    const page = await json<{ items: RequestView[] }>(
      await call('GET', `/v1/servers/${owner.serverId}/access-requests?limit=200`, undefined, owner.token),
    );
    return page.items.length;
  }

  async function claim(requestId: string, signer = app): Promise<Response> {
    const td = await json<{ typedData: JsonTypedData }>(
      await call('POST', `/v1/access-requests/${requestId}/key/typed-data`),
    );
    return call('POST', `/v1/access-requests/${requestId}/key`, {
      typedData: td.typedData,
      signature: await sign(signer, td.typedData),
    });
  }

  async function approveAndGrant(requestId: string): Promise<{ grantId: string; keyId: string }> {
    const { typedData } = await json<{ typedData: JsonTypedData }>(
      await call(
        'POST',
        `/v1/servers/${owner.serverId}/access-requests/${requestId}/approve`,
        {},
        owner.token,
      ),
    );
    const res = await call(
      'POST',
      `/v1/servers/${owner.serverId}/access-requests/${requestId}/grant`,
      { typedData, signature: await sign(owner.owner, typedData) },
      owner.token,
    );
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { grantId: string; keyId: string };
  }

  before(async () => {
    // Every call of this file comes from one IP: the per-IP limit has a case of its own below.
    gw = await startGateway({ ACCESS_REQUEST_RATE_PER_MINUTE: '10000', WEBHOOK_ALLOW_LOOPBACK: 'true' });
    worker = await startWorker({ WEBHOOK_ALLOW_LOOPBACK: 'true', WEBHOOK_DISPATCH_EVERY_MS: '200' });
    callback = await returnUrlServer();
    receiver = new Receiver();
    receiverUrl = await receiver.start();
    owner = await newTenant(gw.url);
    stranger = await newTenant(gw.url);
    fileA = await uploadText(
      gw.url,
      owner,
      'journal.txt',
      'The weather was fine. The meeting went well today.',
    );
    fileB = await uploadText(gw.url, owner, 'private.txt', 'Nothing for apps here.');
  });
  after(async () => {
    await receiver.close();
    await callback.close();
    await worker.close();
    await gw.close();
  });

  it('files, approves, claims once, then discovers and runs an operation without naming the grant', async () => {
    // The owner listens on a webhook: the app's operation must reach it, signed.
    const hookRes = await call(
      'POST',
      `/v1/servers/${owner.serverId}/webhooks`,
      { url: `${receiverUrl}/ok`, events: ['operation.succeeded'] },
      owner.token,
    );
    assert.equal(hookRes.status, 201, await hookRes.clone().text());
    const hook = (await hookRes.json()) as { secret: string };
    const typedData = await requestTypedData({ returnUrl: callback.url });
    assert.deepEqual(typedData.domain, { name: 'Hearth', version: '1', chainId: gw.config.CHAIN_ID });
    assert.equal(typedData.primaryType, 'AccessRequest');
    assert.equal(typedData.message.serverId, owner.serverId, 'the owner address resolved to their server');
    const filed = await file(typedData);
    assert.equal(filed.status, 201, await filed.clone().text());
    const { requestId, status } = (await filed.json()) as { requestId: string; status: string };
    assert.equal(status, 'pending');
    assert.match(requestId, /^arq_[0-9a-f]{32}$/);

    // The app polls; the owner lists it with who asks for what and why.
    assert.equal(
      (await json<RequestView>(await call('GET', `/v1/access-requests/${requestId}`))).status,
      'pending',
    );
    const pending = await json<{ items: RequestView[] }>(
      await call(
        'GET',
        `/v1/servers/${owner.serverId}/access-requests?status=pending`,
        undefined,
        owner.token,
      ),
    );
    const listed = pending.items.find((r) => r.requestId === requestId);
    assert.equal(listed?.appAddress, app.address);
    assert.equal(listed?.purpose, 'Counts the words of your journal');
    assert.deepEqual(listed?.fileIds, [fileA]);
    // The owner's event feed says a request was filed: ids only, never the purpose.
    const feed = await json<{ items: { type: string; data: Record<string, unknown> }[] }>(
      await call(
        'GET',
        `/v1/servers/${owner.serverId}/events?type=access_request.filed`,
        undefined,
        owner.token,
      ),
    );
    assert.deepEqual(feed.items.find((e) => e.data.requestId === requestId)?.data, {
      requestId,
      appAddress: app.address.toLowerCase(),
    });

    // Someone else's session sees nothing of it and cannot approve it.
    const foreign = await call(
      'GET',
      `/v1/servers/${owner.serverId}/access-requests/${requestId}`,
      undefined,
      stranger.token,
    );
    assert.equal(foreign.status, 404);
    const foreignApprove = await call(
      'POST',
      `/v1/servers/${stranger.serverId}/access-requests/${requestId}/approve`,
      {},
      stranger.token,
    );
    assert.equal(foreignApprove.status, 404);
    assert.equal((await problemOf(foreignApprove)).code, 'not_found');

    // A grant for something the app did not ask is refused before any transaction.
    const wider = await json<{ typedData: JsonTypedData }>(
      await call(
        'POST',
        `/v1/servers/${owner.serverId}/grants/typed-data`,
        {
          appAddress: app.address,
          operations: ['stats'],
          fileIds: [fileA, fileB],
        },
        owner.token,
      ),
    );
    const refused = await call(
      'POST',
      `/v1/servers/${owner.serverId}/access-requests/${requestId}/grant`,
      { typedData: wider.typedData, signature: await sign(owner.owner, wider.typedData) },
      owner.token,
    );
    assert.equal(refused.status, 400);
    const refusal = await problemOf(refused);
    assert.equal(refusal.code, 'validation_failed');
    assert.deepEqual(refusal.errors, [
      {
        field: 'typedData.message.fileIds.1',
        code: 'not_requested',
        message: 'the app did not ask for this file',
      },
    ]);

    const approvedBody = await approveAndGrant(requestId);
    assert.match(approvedBody.keyId, /^key_/);
    assert.equal(JSON.stringify(approvedBody).includes('hth_live_'), false, 'no secret reaches the owner');
    assert.deepEqual(await callback.next(), { requestId, status: 'approved' });

    const approved = await json<RequestView>(await call('GET', `/v1/access-requests/${requestId}`));
    assert.equal(approved.status, 'approved');
    assert.equal(approved.grantId, approvedBody.grantId);
    assert.equal(approved.keyClaimed, false);
    assert.equal(approved.serverAddress, owner.serverAddress);

    // The key: only to the requesting wallet, only once.
    const wrongWallet = await claim(requestId, otherWallet);
    assert.equal(wrongWallet.status, 400);
    assert.equal((await problemOf(wrongWallet)).code, 'signature_mismatch');
    const claimed = await claim(requestId);
    assert.equal(claimed.status, 200, await claimed.clone().text());
    assert.equal(claimed.headers.get('cache-control'), 'no-store');
    const delivered = (await claimed.json()) as {
      keyId: string;
      key: string;
      grantId: string;
      serverId: string;
      serverAddress: string;
    };
    assert.equal(delivered.keyId, approvedBody.keyId);
    assert.equal(delivered.grantId, approvedBody.grantId);
    assert.equal(delivered.serverAddress, owner.serverAddress);
    assert.match(delivered.key, /^hth_live_/);
    const again = await claim(requestId);
    assert.equal(again.status, 409);
    assert.equal((await problemOf(again)).code, 'already_claimed');
    const keys = await json<{
      items: Array<{ id: string; appAddress: string; operations: string[]; name: string }>;
    }>(await call('GET', `/v1/servers/${owner.serverId}/api-keys`, undefined, owner.token));
    const key = keys.items.find((k) => k.id === delivered.keyId);
    assert.deepEqual(
      { appAddress: key?.appAddress, operations: key?.operations, name: key?.name },
      { appAddress: app.address, operations: ['stats'], name: 'Word counter' },
    );

    // Discovery with the key.
    const whoami = await json<Record<string, string>>(
      await call('GET', '/v1/whoami', undefined, delivered.key),
    );
    assert.equal(whoami.serverAddress, owner.serverAddress);
    assert.match(whoami.serverPublicKey, /^0x04[0-9a-f]{128}$/i);
    const grants = await json<{ items: Array<Record<string, unknown>> }>(
      await call('GET', '/v1/grants', undefined, delivered.key),
    );
    assert.deepEqual(grants.items, [
      {
        grantId: approvedBody.grantId,
        operations: ['stats'],
        fileIds: [fileA],
        allFiles: false,
        expiresAt: null,
        status: 'active',
      },
    ]);
    const files = await json<{ items: Array<Record<string, unknown>> }>(
      await call('GET', '/v1/files', undefined, delivered.key),
    );
    assert.equal(files.items.length, 1);
    assert.equal(files.items[0].id, fileA);
    assert.match(String(files.items[0].contentType), /^text\/plain/);
    assert.equal('name' in files.items[0], false, 'file names are sealed');

    // The operation without grantId: the one covering grant is picked.
    const ran = await call(
      'POST',
      '/v1/operations',
      { operation: 'stats', fileIds: [fileA] },
      delivered.key,
      {
        Prefer: 'wait=30',
      },
    );
    assert.equal(ran.status, 200, await ran.clone().text());
    const op = (await ran.json()) as { id: string; status: string; grantId: string };
    assert.equal(op.status, 'succeeded');
    assert.equal(op.grantId, approvedBody.grantId);
    // The owner's webhook hears of it, with a signature a receiver verifies from the docs alone.
    const succeeded = (r: Received): boolean =>
      (JSON.parse(r.raw) as { type: string; data: { operationId?: string } }).data.operationId === op.id;
    await receiver.until((all) => all.some(succeeded));
    const delivery = receiver.received.find(succeeded)!;
    assert.equal((JSON.parse(delivery.raw) as { type: string }).type, 'operation.succeeded');
    assert.equal(
      verifiedBy(hook.secret, String(delivery.headers['hearth-signature']), delivery.raw, delivery.at),
      true,
    );
    const outside = await call(
      'POST',
      '/v1/operations',
      { operation: 'stats', fileIds: [fileB] },
      delivered.key,
    );
    assert.equal(outside.status, 403);
    const denied = await problemOf(outside);
    assert.equal(denied.code, 'permission_denied');
    assert.equal(denied.errors?.[0]?.code, 'no_covering_grant');

    // A second covering grant makes the choice ambiguous: 400 naming both.
    const second = await approveAndGrant(await newRequest());
    const ambiguous = await call(
      'POST',
      '/v1/operations',
      { operation: 'stats', fileIds: [fileA] },
      delivered.key,
    );
    assert.equal(ambiguous.status, 400);
    const problem = await problemOf(ambiguous);
    assert.equal(problem.code, 'grant_ambiguous');
    assert.deepEqual(
      problem.errors?.map((e) => [e.field, e.code, (e as { message?: string }).message]),
      [
        ['grantId', 'candidate', approvedBody.grantId],
        ['grantId', 'candidate', second.grantId],
      ],
    );
  });

  it('refuses a request signed by another wallet, a passed deadline and a replayed nonce, storing nothing', async () => {
    const before = await ownerRequestCount();
    const typedData = await requestTypedData();
    const forged = await file(typedData, otherWallet);
    assert.equal(forged.status, 400);
    assert.equal((await problemOf(forged)).code, 'signature_mismatch');

    const stale = structuredClone(typedData);
    stale.message.deadline = String(Math.floor(Date.now() / 1000) - 60);
    const late = await file(stale);
    assert.equal(late.status, 400);
    assert.deepEqual(
      (await problemOf(late)).errors?.map((e) => [e.field, e.code]),
      [['typedData.message.deadline', 'expired']],
    );

    const tampered = structuredClone(typedData);
    const signature = await sign(app, typedData);
    tampered.message.allFiles = true;
    tampered.message.fileIds = [];
    const altered = await call('POST', '/v1/access-requests', { typedData: tampered, signature });
    assert.equal(altered.status, 400);
    assert.equal((await problemOf(altered)).code, 'signature_mismatch');

    const wrongChain = structuredClone(typedData);
    wrongChain.domain.chainId = 1;
    const chain = await file(wrongChain);
    assert.equal(chain.status, 400);
    assert.equal((await problemOf(chain)).errors?.[0]?.field, 'typedData.domain.chainId');
    assert.equal(await ownerRequestCount(), before, 'nothing filed');

    const first = await call('POST', '/v1/access-requests', { typedData, signature });
    assert.equal(first.status, 201);
    const replay = await call('POST', '/v1/access-requests', { typedData, signature });
    assert.equal(replay.status, 409);
    assert.equal((await problemOf(replay)).code, 'access_request_replayed');
    assert.equal(await ownerRequestCount(), before + 1, 'filed once');
  });

  it('refuses bad requests before any signature: unknown server, files, operations, a plain-http return URL', async () => {
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ server: stranger.owner.address, fileIds: [fileA] }, 404, 'fileIds.0'],
      [{ operations: ['no_such_op'] }, 400, 'operations.0'],
      [{ operations: ['counts'] }, 400, 'operations.0'],
      [{ returnUrl: 'http://example.com/cb' }, 400, 'returnUrl'],
      [{ purpose: 'x'.repeat(501) }, 400, 'purpose'],
    ];
    for (const [extra, status, field] of cases) {
      const res = await call('POST', '/v1/access-requests/typed-data', {
        server: owner.serverId,
        appAddress: app.address,
        operations: ['stats'],
        fileIds: [fileA],
        purpose: 'p',
        ...extra,
      });
      assert.equal(res.status, status, `${JSON.stringify(extra)}: ${await res.clone().text()}`);
      assert.equal((await problemOf(res)).errors?.[0]?.field, field);
    }
  });

  it('denies: the app is told, nothing can be claimed, and a decided request stays decided', async () => {
    const requestId = await newRequest({ returnUrl: callback.url });
    const denied = await call(
      'POST',
      `/v1/servers/${owner.serverId}/access-requests/${requestId}/deny`,
      undefined,
      owner.token,
    );
    assert.equal(denied.status, 200);
    assert.deepEqual(await denied.json(), { status: 'denied' });
    assert.deepEqual(await callback.next(), { requestId, status: 'denied' });
    const claimDenied = await claim(requestId);
    assert.equal(claimDenied.status, 409);
    assert.equal((await problemOf(claimDenied)).code, 'access_request_not_approved');
    for (const action of ['deny', 'approve']) {
      const res = await call(
        'POST',
        `/v1/servers/${owner.serverId}/access-requests/${requestId}/${action}`,
        {},
        owner.token,
      );
      assert.equal(res.status, 409);
      assert.equal((await problemOf(res)).code, 'access_request_not_pending');
    }
  });

  it('lets a request lapse after ACCESS_REQUEST_TTL_SECONDS: expired, and approving it is 410', async () => {
    const shortLived = await startGateway({
      ACCESS_REQUEST_TTL_SECONDS: '1',
      ACCESS_REQUEST_RATE_PER_MINUTE: '10000',
    });
    try {
      const typedData = await requestTypedData();
      const res = await fetch(`${shortLived.url}/v1/access-requests`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ typedData, signature: await sign(app, typedData) }),
      });
      assert.equal(res.status, 201, await res.clone().text());
      const { requestId, expiresAt } = (await res.json()) as { requestId: string; expiresAt: string };
      // Time itself is the event here: the request lapses once its expiresAt has passed.
      await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(expiresAt) - Date.now()) + 50));
      assert.equal(
        (await json<RequestView>(await call('GET', `/v1/access-requests/${requestId}`))).status,
        'expired',
      );
      const approve = await call(
        'POST',
        `/v1/servers/${owner.serverId}/access-requests/${requestId}/approve`,
        {},
        owner.token,
      );
      assert.equal(approve.status, 410);
      assert.equal((await problemOf(approve)).code, 'access_request_expired');
      const listed = await json<{ items: RequestView[] }>(
        await call(
          'GET',
          `/v1/servers/${owner.serverId}/access-requests?status=expired`,
          undefined,
          owner.token,
        ),
      );
      assert.ok(listed.items.some((r) => r.requestId === requestId));
    } finally {
      await shortLived.close();
    }
  });

  it('the SDK: HearthApp.requestAccess, accessRequest, claimKey, then grants() and files()', async () => {
    const sdkApp = privateKeyToAccount(generatePrivateKey());
    const options = { baseUrl: gw.url, retry: { retries: 0 } };
    const { requestId } = await HearthApp.requestAccess({
      ...options,
      signer: sdkApp,
      server: owner.serverId,
      operations: ['stats'],
      allFiles: true,
      purpose: 'SDK check',
    });
    assert.equal((await HearthApp.accessRequest({ ...options, requestId })).status, 'pending');
    const { grantId } = await approveAndGrant(requestId);
    const claimed = await HearthApp.claimKey({ ...options, requestId, signer: sdkApp });
    const client = new HearthApp({ ...options, apiKey: claimed.key });
    const grants = [];
    for await (const g of client.grants()) grants.push(g);
    assert.deepEqual(
      grants.map((g) => [g.grantId, g.allFiles]),
      [[grantId, true]],
    );
    const files = [];
    for await (const f of client.files()) files.push(f.id);
    assert.deepEqual(files.sort(), [fileA, fileB].sort(), 'allFiles: every file of the server');
    assert.equal((await client.whoami()).serverPublicKey?.startsWith('0x04'), true);
  });

  it('limits filings per client IP (ACCESS_REQUEST_RATE_PER_MINUTE): 429 with Retry-After', async () => {
    const limited = await startGateway({ ACCESS_REQUEST_RATE_PER_MINUTE: '2' });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${limited.url}/v1/access-requests/typed-data`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            server: owner.serverId,
            appAddress: app.address,
            operations: ['stats'],
            allFiles: true,
            purpose: 'p',
          }),
        });
        statuses.push(res.status);
        if (res.status === 429) {
          retryAfter = res.headers.get('retry-after');
          assert.equal((await problemOf(res)).code, 'rate_limited');
        } else await res.body?.cancel();
      }
      // The window's count is shared with this file's other gateway (one Redis, one IP): it only grows.
      assert.equal(statuses[2], 429, statuses.join(','));
      assert.match(retryAfter ?? '', /^\d+$/);
    } finally {
      await limited.close();
    }
  });
});
