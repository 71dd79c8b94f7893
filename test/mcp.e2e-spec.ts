import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { randomUUID } from 'node:crypto';
import type { GrantRelayer } from '@hearth/permissions';
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';
import { verifyTypedData } from 'viem';
import {
  problemOf,
  type RunningGateway,
  type RunningWorker,
  startGateway,
  startWorker,
} from './support/apps';
import {
  type App,
  grant,
  json,
  newApp,
  newTenant,
  relayerFor,
  type Tenant,
  uploadText,
} from './support/flow';
import { web3Signed } from './support/dp-client';
import { bearer } from './support/siwe';

const JOURNAL =
  'Monday I walked to the harbour and watched the ferries. ' +
  'Tuesday the rain kept me in; I read and cooked soup. ' +
  'Wednesday dinner at Leah’s flat, where we laughed about our grandmother’s recipes.';
const FILE_NAME = 'mcp-journal-secret-name.txt';

interface Receipt {
  typedData: Parameters<typeof verifyTypedData>[0];
  signature: `0x${string}`;
  signer: `0x${string}`;
}

async function connect(url: string, key: string, path = '/mcp'): Promise<Client> {
  const client = new Client({ name: 'hearth-e2e', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(path, url), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  return client;
}

/**
 * The MCP SDK's client with a fetch that signs every request with the app's wallet (Web3Signed, as the Data
 * Portability Protocol's builders do): aud, method, uri and the body's hash, a nonce so each payload is new.
 */
async function connectSigned(
  url: string,
  account: PrivateKeyAccount,
  aud: string,
  path: string,
): Promise<Client> {
  const client = new Client({ name: 'hearth-e2e-web3signed', version: '1.0.0' });
  const signedFetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const target = new URL(input);
    const headers = new Headers(init?.headers);
    headers.set(
      'authorization',
      await web3Signed(account, {
        aud,
        method: init?.method ?? 'GET',
        uri: target.pathname + target.search,
        body: typeof init?.body === 'string' ? init.body : undefined,
        override: { nonce: randomUUID() },
      }),
    );
    return fetch(target, { ...init, headers });
  };
  await client.connect(new StreamableHTTPClientTransport(new URL(path, url), { fetch: signedFetch }));
  return client;
}

function structured(result: Awaited<ReturnType<Client['callTool']>>): Record<string, unknown> {
  const r = result as CallToolResult;
  assert.ok(r.structuredContent, JSON.stringify(r.content));
  return r.structuredContent;
}

describe('MCP server (the SDK client against the gateway and worker)', () => {
  let gw: RunningGateway;
  let worker: RunningWorker;
  let relayer: GrantRelayer;
  let tenant: Tenant;
  let app: App;
  let fileId: string;
  let otherFileId: string;
  let grantId: string;
  let client: Client;

  before(async () => {
    gw = await startGateway();
    worker = await startWorker();
    relayer = relayerFor(gw.config);
    tenant = await newTenant(gw.url);
    fileId = await uploadText(gw.url, tenant, FILE_NAME, JOURNAL);
    otherFileId = await uploadText(gw.url, tenant, 'not-granted.txt', 'Nothing granted here.');
    app = await newApp(gw.url, tenant);
    grantId = await grant(relayer, tenant, app.account.address, ['stats'], [fileId]);
    client = await connect(gw.url, app.key);
  });
  after(async () => {
    await client?.close();
    await worker?.close();
    await gw?.close();
  });

  it('lists the catalog as tools, each with the operation parameters as its input schema', async () => {
    const { tools } = await client.listTools();
    const catalog = await json<{ items: Array<{ name: string; paramsSchema: Record<string, unknown> }> }>(
      await fetch(`${gw.url}/v1/operations/catalog`),
    );
    const personal = catalog.items.map((o) => o.name).sort();
    assert.deepEqual(tools.map((t) => t.name).sort(), personal);
    const stats = tools.find((t) => t.name === 'stats');
    assert.ok(stats);
    assert.deepEqual(stats.inputSchema.required, ['fileIds']);
    const { $schema: _ignored, ...params } = catalog.items.find((o) => o.name === 'stats')!.paramsSchema;
    assert.deepEqual(stats.inputSchema.properties?.parameters, params);
    assert.equal(stats.annotations?.readOnlyHint, true);
  });

  it('runs stats on a granted file: the output and a receipt that verifies, one access-log row', async () => {
    const result = await client.callTool({ name: 'stats', arguments: { fileIds: [fileId] } });
    assert.notEqual(result.isError, true, JSON.stringify(result.content));
    const out = structured(result);
    assert.equal(out.status, 'succeeded');
    assert.match(String(out.operationId), /^op_/);
    assert.ok(JSON.stringify(out.result).includes('"words"'), JSON.stringify(out.result));
    const receipt = out.receipt as Receipt;
    assert.equal(receipt.signer, tenant.serverAddress);
    assert.equal(
      await verifyTypedData({
        ...receipt.typedData,
        address: tenant.serverAddress,
        signature: receipt.signature,
      }),
      true,
    );
    const message = receipt.typedData.message as Record<string, string>;
    assert.equal(message.operationId, out.operationId);
    assert.equal(message.grantId, grantId);
    assert.equal(message.app, app.account.address);
    // The same operation as POST /v1/operations: readable by the key, logged once.
    const op = await json<{ status: string; receipt: Receipt }>(
      await fetch(`${gw.url}/v1/operations/${String(out.operationId)}`, { headers: bearer(app.key) }),
    );
    assert.equal(op.status, 'succeeded');
    assert.deepEqual(op.receipt.signature, receipt.signature);
    const log = await json<{ items: Array<{ operationId: string | null; outcome: string }> }>(
      await fetch(`${gw.url}/v1/servers/${tenant.serverId}/access-log`, { headers: bearer(tenant.token) }),
    );
    assert.deepEqual(
      log.items.filter((r) => r.operationId === out.operationId).map((r) => r.outcome),
      ['succeeded'],
    );
  });

  it('refuses an operation outside the grant as an error result with the Hearth code, and logs it', async () => {
    const result = await client.callTool({
      name: 'summarize',
      arguments: { fileIds: [fileId], parameters: { sentences: 1 } },
    });
    assert.equal(result.isError, true);
    const { error } = structured(result) as { error: { status: number; code: string; errors: unknown[] } };
    assert.equal(error.status, 403);
    assert.equal(error.code, 'permission_denied');
    assert.deepEqual(error.errors, [
      {
        field: 'operation',
        code: 'operation_not_granted',
        message: 'denied by the permission contract (operation_not_granted)',
      },
    ]);
    const log = await json<{ items: Array<{ operation: string; outcome: string; code: string }> }>(
      await fetch(`${gw.url}/v1/servers/${tenant.serverId}/access-log`, { headers: bearer(tenant.token) }),
    );
    assert.ok(
      log.items.some(
        (r) => r.operation === 'summarize' && r.outcome === 'denied' && r.code === 'operation_not_granted',
      ),
    );
  });

  it('refuses a file outside the grant, and bad arguments name their field', async () => {
    const foreign = await client.callTool({
      name: 'stats',
      arguments: { fileIds: [otherFileId], grantId },
    });
    assert.equal(foreign.isError, true);
    const denied = structured(foreign) as { error: { code: string; errors: Array<{ code: string }> } };
    assert.equal(denied.error.code, 'permission_denied');
    assert.equal(denied.error.errors[0].code, 'file_not_granted');
    const bad = await client.callTool({ name: 'stats', arguments: { fileIds: ['nope'], extra: 1 } });
    assert.equal(bad.isError, true);
    const invalid = structured(bad) as { error: { status: number; errors: Array<{ field: string }> } };
    assert.equal(invalid.error.status, 400);
    assert.deepEqual(invalid.error.errors.map((e) => e.field).sort(), [
      'arguments.extra',
      'arguments.fileIds.0',
    ]);
  });

  it('answers metadata resources: server, grants, granted files without names or contents', async () => {
    const { resources } = await client.listResources();
    assert.deepEqual(resources.map((r) => r.uri).sort(), [
      'hearth://files',
      'hearth://grants',
      'hearth://server',
    ]);
    const read = async (uri: string) => {
      const { contents } = await client.readResource({ uri });
      assert.equal(contents.length, 1);
      return JSON.parse(String((contents[0] as { text: string }).text)) as Record<string, unknown>;
    };
    const server = await read('hearth://server');
    assert.equal(server.id, tenant.serverId);
    assert.equal(server.address, tenant.serverAddress);
    const grants = (await read('hearth://grants')) as {
      items: Array<{ grantId: string; fileIds: string[] }>;
    };
    assert.deepEqual(
      grants.items.map((g) => [g.grantId, g.fileIds]),
      [[grantId, [fileId]]],
    );
    const filesText = JSON.stringify(await read('hearth://files'));
    const files = JSON.parse(filesText) as { items: Array<Record<string, unknown>> };
    assert.equal(files.items.length, 1);
    assert.equal(files.items[0].id, fileId);
    assert.equal(files.items[0].size, Buffer.byteLength(JOURNAL));
    assert.equal(files.items[0].contentType, 'text/plain');
    assert.ok(
      !filesText.includes(FILE_NAME) && !filesText.includes('harbour') && !filesText.includes(otherFileId),
    );
    await assert.rejects(client.readResource({ uri: 'hearth://nothing' }), /-32002|No resource/);
  });

  it('serves the same server at /v1/servers/:id/mcp, and no other server there', async () => {
    const own = await connect(gw.url, app.key, `/v1/servers/${tenant.serverId}/mcp`);
    assert.ok((await own.listTools()).tools.some((t) => t.name === 'stats'));
    await own.close();
    const other = await newTenant(gw.url);
    const res = await fetch(`${gw.url}/v1/servers/${other.serverId}/mcp`, {
      method: 'POST',
      headers: {
        ...bearer(app.key),
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(res.status, 404);
  });

  it("runs under the app's own key when each request is Web3Signed by its wallet, on its server's endpoint", async () => {
    const aud = gw.config.siweOrigins[0];
    const path = `/v1/servers/${tenant.serverId}/mcp`;
    const signed = await connectSigned(gw.url, app.account, aud, path);
    try {
      const result = await signed.callTool({ name: 'stats', arguments: { fileIds: [fileId] } });
      assert.notEqual(result.isError, true, JSON.stringify(result.content));
      const out = structured(result);
      assert.equal(out.status, 'succeeded');
      assert.equal((out.receipt as Receipt).typedData.message.app, app.account.address);
      // The same operation an API-key request would have made: the key reads it.
      const op = await fetch(`${gw.url}/v1/operations/${String(out.operationId)}`, {
        headers: bearer(app.key),
      });
      assert.equal(op.status, 200);
      // The grant still decides: a file outside it is refused the same way.
      const refused = await signed.callTool({ name: 'stats', arguments: { fileIds: [otherFileId] } });
      assert.equal(refused.isError, true);
    } finally {
      await signed.close();
    }

    const initialize = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    const post = async (account: PrivateKeyAccount, at: string, sign: { body?: string } = {}) => {
      const authorization = await web3Signed(account, {
        aud,
        method: 'POST',
        uri: at,
        body: sign.body ?? initialize,
        override: { nonce: randomUUID() },
      });
      const init = {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: initialize,
      };
      return { res: await fetch(`${gw.url}${at}`, init), again: () => fetch(`${gw.url}${at}`, init) };
    };
    // A wallet with no API key on this server has nothing to run under.
    const stranger = await post(privateKeyToAccount(generatePrivateKey()), path);
    assert.deepEqual(
      [stranger.res.status, (await problemOf(stranger.res)).code],
      [403, 'app_has_no_api_key'],
    );
    // The signature covers the body, is accepted once, and names a server: /mcp has none.
    const tampered = await post(app.account, path, {
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    });
    assert.deepEqual(
      [tampered.res.status, (await problemOf(tampered.res)).code],
      [401, 'dp_body_hash_mismatch'],
    );
    const first = await post(app.account, path);
    assert.equal(first.res.status, 200, await first.res.clone().text());
    const replayed = await first.again();
    assert.deepEqual([replayed.status, (await problemOf(replayed)).code], [401, 'dp_replayed']);
    const unnamed = await post(app.account, '/mcp');
    assert.deepEqual([unnamed.res.status, (await problemOf(unnamed.res)).code], [401, 'unauthorized']);
  });

  it('answers a bad key with 401 (the SDK client sees it), and GET with 405 (no stream: stateless)', async () => {
    await assert.rejects(
      connect(gw.url, 'hth_live_' + 'x'.repeat(40)),
      (err: unknown) => err instanceof StreamableHTTPError && err.code === 401,
    );
    const res = await fetch(`${gw.url}/mcp`, {
      method: 'POST',
      headers: { authorization: 'Bearer hth_live_nope', 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 401);
    assert.equal((await problemOf(res)).code, 'invalid_api_key');
    const get = await fetch(`${gw.url}/mcp`, {
      headers: { ...bearer(app.key), accept: 'text/event-stream' },
    });
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
  });
});
