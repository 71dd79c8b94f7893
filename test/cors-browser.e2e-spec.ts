import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { type RunningGateway, startGateway } from './support/apps';
import { type App, grant, newApp, newTenant, relayerFor, type Tenant, uploadText } from './support/flow';

const CHROMIUM = '/usr/bin/chromium';

/** A web app's own origin: an empty page served from a port of its own (another origin than the gateway's). */
async function pageOrigin(): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

interface PageCalls {
  whoami: { status: number; serverId?: string } | { error: string };
  grants: number | { error: string };
  files: number | { error: string };
  operation: { status: number; location: string | null; remaining: string | null } | { error: string };
  accessRequest: number | { error: string };
  owner: number | { error: string };
}

/** Runs in the page: the app's own fetches, each either its status (readable) or the browser's refusal. */
function callFromPage(
  page: Page,
  args: { gw: string; key: string; session: string; fileId: string; server: string },
) {
  return page.evaluate(async ({ gw, key, session, fileId, server }): Promise<PageCalls> => {
    const auth = { authorization: `Bearer ${key}` };
    const attempt = async <T>(fn: () => Promise<T>): Promise<T | { error: string }> => {
      try {
        return await fn();
      } catch (e) {
        return { error: String(e) };
      }
    };
    return {
      whoami: await attempt(async () => {
        const r = await fetch(`${gw}/v1/whoami`, { headers: auth });
        return { status: r.status, serverId: ((await r.json()) as { serverId: string }).serverId };
      }),
      grants: await attempt(async () => (await fetch(`${gw}/v1/grants`, { headers: auth })).status),
      files: await attempt(async () => (await fetch(`${gw}/v1/files`, { headers: auth })).status),
      operation: await attempt(async () => {
        const r = await fetch(`${gw}/v1/operations`, {
          method: 'POST',
          headers: {
            ...auth,
            'content-type': 'application/json',
            'idempotency-key': `cors-${Math.random()}`,
          },
          body: JSON.stringify({ operation: 'stats', fileIds: [fileId] }),
        });
        return {
          status: r.status,
          location: r.headers.get('location'),
          remaining: r.headers.get('ratelimit-remaining'),
        };
      }),
      accessRequest: await attempt(async () => {
        const r = await fetch(`${gw}/v1/access-requests/typed-data`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            server,
            appAddress: '0x00000000000000000000000000000000000000aa',
            operations: ['stats'],
            allFiles: true,
            purpose: 'from a browser',
          }),
        });
        return r.status;
      }),
      owner: await attempt(
        async () =>
          (await fetch(`${gw}/v1/servers`, { headers: { authorization: `Bearer ${session}` } })).status,
      ),
    };
  }, args);
}

describe('CORS from a browser page on another origin', () => {
  let gw: RunningGateway;
  let browser: Browser;
  let allowed: Awaited<ReturnType<typeof pageOrigin>>;
  let foreign: Awaited<ReturnType<typeof pageOrigin>>;
  let tenant: Tenant;
  let app: App;
  let fileId: string;

  before(async () => {
    allowed = await pageOrigin();
    foreign = await pageOrigin();
    gw = await startGateway({ CONSOLE_ORIGINS: allowed.origin });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    tenant = await newTenant(gw.url);
    fileId = await uploadText(gw.url, tenant, 'notes.txt', 'Some notes. A second sentence.');
    app = await newApp(gw.url, tenant, { origins: [allowed.origin] });
    await grant(relayerFor(gw.config), tenant, app.account.address, ['stats'], [fileId]);
  });
  after(async () => {
    await browser?.close();
    await gw.close();
    await allowed.close();
    await foreign.close();
  });

  it("an origin on the key's allowlist calls the app routes with the key and reads the answers", async () => {
    const page = await browser.newPage();
    await page.goto(allowed.origin);
    const calls = await callFromPage(page, {
      gw: gw.url,
      key: app.key,
      session: tenant.token,
      fileId,
      server: tenant.serverId,
    });
    await page.close();
    assert.deepEqual(calls.whoami, { status: 200, serverId: tenant.serverId });
    assert.equal(calls.grants, 200);
    assert.equal(calls.files, 200);
    const op = calls.operation as { status: number; location: string | null; remaining: string | null };
    assert.equal(op.status, 202);
    assert.match(op.location ?? '', /^\/v1\/operations\/op_/, 'Location is exposed');
    assert.match(op.remaining ?? '', /^\d+$/, 'RateLimit-Remaining is exposed');
    assert.equal(calls.accessRequest, 200);
    assert.equal(calls.owner, 200, 'the configured console origin reaches owner routes');
  });

  it('another origin is blocked by the browser on app and owner routes, yet may file access requests', async () => {
    const page = await browser.newPage();
    await page.goto(foreign.origin);
    const calls = await callFromPage(page, {
      gw: gw.url,
      key: app.key,
      session: tenant.token,
      fileId,
      server: tenant.serverId,
    });
    await page.close();
    for (const name of ['whoami', 'grants', 'files', 'operation', 'owner'] as const) {
      assert.match((calls[name] as { error?: string }).error ?? '', /TypeError: Failed to fetch/, name);
    }
    assert.equal(calls.accessRequest, 200);
  });

  it('answers preflights as documented, never with credentials', async () => {
    const preflight = (path: string, origin: string, method = 'POST') =>
      fetch(`${gw.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': method,
          'access-control-request-headers': 'authorization',
        },
      });
    const appRoute = await preflight('/v1/operations', foreign.origin);
    assert.equal(appRoute.status, 204);
    assert.equal(
      appRoute.headers.get('access-control-allow-origin'),
      foreign.origin,
      'no key yet: any origin',
    );
    assert.equal(
      appRoute.headers.get('access-control-allow-headers'),
      'authorization, content-type, idempotency-key, prefer, accept, mcp-protocol-version, mcp-session-id, last-event-id',
    );
    assert.match(appRoute.headers.get('vary') ?? '', /Origin/);
    const ownerAllowed = await preflight('/v1/servers', allowed.origin, 'GET');
    assert.equal(ownerAllowed.status, 204);
    assert.equal(ownerAllowed.headers.get('access-control-allow-origin'), allowed.origin);
    const ownerForeign = await preflight('/v1/servers', foreign.origin, 'GET');
    assert.equal(ownerForeign.status, 204);
    assert.equal(ownerForeign.headers.get('access-control-allow-origin'), null);
    const request = await preflight('/v1/access-requests', foreign.origin);
    assert.equal(request.headers.get('access-control-allow-origin'), '*');
    for (const res of [appRoute, ownerAllowed, ownerForeign, request]) {
      assert.equal(res.headers.get('access-control-allow-credentials'), null);
    }
    // The actual request from a foreign origin: refused with the key's code, and no CORS header to read it by.
    const actual = await fetch(`${gw.url}/v1/whoami`, {
      headers: { origin: foreign.origin, authorization: `Bearer ${app.key}` },
    });
    assert.equal(actual.status, 403);
    assert.equal(actual.headers.get('access-control-allow-origin'), null);
  });
});
