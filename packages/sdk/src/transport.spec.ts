import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HearthApp, HearthProblemError } from './node';

/** A stand-in gateway on a local port answering from a script: status, headers, body per call. */
describe('transport: retries and problems', () => {
  let server: Server;
  let url: string;
  let script: Array<{ status: number; headers?: Record<string, string>; body?: unknown }> = [];
  const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        const next = script.shift() ?? { status: 500, body: { code: 'script_exhausted' } };
        const problem = next.status >= 400;
        res.writeHead(next.status, {
          'content-type': problem ? 'application/problem+json' : 'application/json',
          ...next.headers,
        });
        res.end(JSON.stringify(next.body ?? {}));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const unavailable = (retryAfter: string) => ({
    status: 503,
    headers: { 'retry-after': retryAfter },
    body: { status: 503, code: 'chain_unavailable', detail: 'the chain does not answer' },
  });

  it('retries 503 after Retry-After with the same body and Idempotency-Key, then succeeds', async () => {
    seen.length = 0;
    script = [unavailable('0'), unavailable('0'), { status: 202, body: { id: 'op_1', status: 'queued' } }];
    const app = new HearthApp({ apiKey: 'hth_live_x', baseUrl: url, retry: { retries: 3 } });
    const op = await app.submit('summarize', { fileIds: ['fil_1'] });
    assert.equal(op.id, 'op_1');
    assert.equal(seen.length, 3);
    const keys = new Set(seen.map((s) => s.headers['idempotency-key']));
    assert.equal(keys.size, 1, 'one Idempotency-Key for all attempts');
    assert.ok([...keys][0]);
    assert.ok(seen.every((s) => s.body === seen[0].body && s.headers.authorization === 'Bearer hth_live_x'));
  });

  it('bounds the wait whatever Retry-After asks, and gives up after the retries with the typed problem', async () => {
    seen.length = 0;
    script = [unavailable('3600'), unavailable('3600'), unavailable('3600')];
    const app = new HearthApp({ apiKey: 'k', baseUrl: url, retry: { retries: 2, maxDelayMs: 30 } });
    const started = Date.now();
    const err = await app.get('op_1').catch((e: unknown) => e);
    assert.ok(Date.now() - started < 2000, 'waited far less than the hour asked');
    assert.ok(err instanceof HearthProblemError);
    assert.equal(err.status, 503);
    assert.equal(err.code, 'chain_unavailable');
    assert.equal(err.detail, 'the chain does not answer');
    assert.equal(err.retryAfterSeconds, 3600);
    assert.equal(seen.length, 3);
  });

  it('does not retry other errors, and keeps errors[] and the request id', async () => {
    seen.length = 0;
    script = [
      {
        status: 400,
        headers: { 'x-request-id': 'req-1' },
        body: {
          status: 400,
          code: 'invalid_parameters',
          detail: 'Invalid operation parameters',
          errors: [{ field: 'parameters.sentences', code: 'too_big', message: 'at most 10' }],
        },
      },
    ];
    const err = await new HearthApp({ apiKey: 'k', baseUrl: url })
      .submit('summarize', { fileIds: [] })
      .catch((e: unknown) => e);
    assert.ok(err instanceof HearthProblemError);
    assert.deepEqual(err.errors, [{ field: 'parameters.sentences', code: 'too_big', message: 'at most 10' }]);
    assert.equal(err.requestId, 'req-1');
    assert.equal(seen.length, 1);
  });

  it('an abort during the wait stops retrying', async () => {
    script = [unavailable('3600'), unavailable('3600')];
    const controller = new AbortController();
    const app = new HearthApp({ apiKey: 'k', baseUrl: url, retry: { retries: 1, maxDelayMs: 60_000 } });
    const pending = app.get('op_1', controller.signal);
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await assert.rejects(pending);
    assert.ok(Date.now() - started < 5000);
  });
});
