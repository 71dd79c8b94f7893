import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { problemOf, type RunningGateway, startGateway } from './support/apps';

describe('gateway foundation', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway();
  });
  after(async () => {
    await gw.close();
  });

  it('answers liveness and readiness with Postgres and Redis up', async () => {
    const live = await fetch(`${gw.url}/health/live`);
    assert.equal(live.status, 200);
    const ready = await fetch(`${gw.url}/health/ready`);
    const body = (await ready.json()) as { status: string; details: Record<string, { status: string }> };
    assert.equal(ready.status, 200, JSON.stringify(body));
    assert.equal(body.details.database.status, 'up');
    assert.equal(body.details.redis.status, 'up');
  });

  it('puts a request id on every response, honouring a sane one from the caller', async () => {
    const mine = await fetch(`${gw.url}/health/live`, { headers: { 'X-Request-Id': 'abc-123' } });
    assert.equal(mine.headers.get('x-request-id'), 'abc-123');
    const hostile = await fetch(`${gw.url}/health/live`, { headers: { 'X-Request-Id': 'a b<script>' } });
    assert.match(hostile.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('answers an unknown route with a 404 problem', async () => {
    const res = await fetch(`${gw.url}/v1/nothing-here`);
    assert.equal(res.status, 404);
    const problem = await problemOf(res);
    assert.equal(problem.code, 'route_not_found');
  });

  it('answers a known path with the wrong method with a 405 problem naming what it allows', async () => {
    const res = await fetch(`${gw.url}/v1/servers/srv_0123456789abcdef0123456789abcdef`, { method: 'PATCH' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'DELETE, GET, HEAD');
    const problem = await problemOf(res);
    assert.equal(problem.code, 'method_not_allowed');
    assert.match(problem.detail, /PATCH/);
    const unknown = await fetch(`${gw.url}/v1/nothing-here`, { method: 'PATCH' });
    assert.equal(unknown.status, 404);
  });

  it('answers malformed JSON with a 400 problem and no stack trace', async () => {
    const res = await fetch(`${gw.url}/v1/auth/siwe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"message": ',
    });
    assert.equal(res.status, 400);
    const problem = await problemOf(res);
    assert.equal(problem.code, 'malformed_json');
    assert.doesNotMatch(JSON.stringify(problem), /at .*\.js:\d+/);
  });

  it('serves OpenAPI at /docs-json with the error codes documented', async () => {
    const res = await fetch(`${gw.url}/docs-json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as {
      openapi: string;
      info: { description: string };
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { enum?: string[] }> };
    };
    assert.match(doc.openapi, /^3\./);
    assert.ok(doc.paths['/health/ready']);
    assert.match(doc.info.description, /route_not_found/);
    assert.match(doc.info.description, /\| `grant_revoked` \| `denied` \|/);
    assert.ok(doc.components.schemas.ErrorCode.enum?.includes('route_not_found'));
    assert.ok(doc.components.schemas.OperationErrorCode.enum?.includes('grant_revoked'));
    const html = await fetch(`${gw.url}/docs`);
    assert.equal(html.status, 200);
  });

  it('exposes Prometheus metrics', async () => {
    await fetch(`${gw.url}/health/live`);
    const res = await fetch(`${gw.url}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /hearth_http_request_duration_seconds_bucket/);
    assert.match(text, /hearth_gateway_process_resident_memory_bytes/);
  });

  it('keeps the queue dashboard behind the admin token', async () => {
    const admin = await startGateway({ ADMIN_TOKEN: 'test-admin-token-0123456789' });
    try {
      const denied = await fetch(`${admin.url}/admin/queues`);
      assert.equal(denied.status, 401);
      assert.equal((await problemOf(denied)).code, 'unauthorized');
      const ok = await fetch(`${admin.url}/admin/queues`, {
        headers: {
          authorization: `Basic ${Buffer.from('admin:test-admin-token-0123456789').toString('base64')}`,
        },
      });
      assert.equal(ok.status, 200);
    } finally {
      await admin.close();
    }
    const off = await fetch(`${gw.url}/admin/queues`);
    assert.equal(off.status, 404);
  });
});
