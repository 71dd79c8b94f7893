import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { guardedPost } from './webhook-send';

describe('guardedPost', () => {
  let server: Server;
  let port: number;
  const seen: Array<{ url: string; headers: IncomingHttpHeaders; body: string }> = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body });
        if (req.url === '/redirect') {
          res.writeHead(302, { location: '/ok' }).end();
        } else if (req.url === '/slow') {
          setTimeout(() => res.writeHead(204).end(), 2000).unref();
        } else {
          res.writeHead(req.url === '/ok' ? 204 : 503).end();
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const loopbackAllowed = { timeoutMs: 1000, allowLoopback: true };

  it('POSTs the body with its headers and reports the status', async () => {
    const result = await guardedPost(
      `http://127.0.0.1:${port}/ok`,
      { 'hearth-event-id': 'evt_1' },
      '{"a":1}',
      loopbackAllowed,
    );
    assert.deepEqual([result.ok, result.statusCode, result.errorCode], [true, 204, null]);
    const last = seen[seen.length - 1];
    assert.equal(last.body, '{"a":1}');
    assert.equal(last.headers['hearth-event-id'], 'evt_1');
    const failed = await guardedPost(`http://127.0.0.1:${port}/down`, {}, '{}', loopbackAllowed);
    assert.deepEqual([failed.ok, failed.statusCode, failed.errorCode], [false, 503, 'http_status']);
  });

  it('never follows a redirect', async () => {
    const before = seen.length;
    const result = await guardedPost(`http://127.0.0.1:${port}/redirect`, {}, '{}', loopbackAllowed);
    assert.deepEqual([result.ok, result.statusCode, result.errorCode], [false, 302, 'http_status']);
    assert.equal(seen.length, before + 1, 'one request, the redirect target untouched');
  });

  it('gives up after the timeout', async () => {
    const result = await guardedPost(`http://127.0.0.1:${port}/slow`, {}, '{}', {
      timeoutMs: 200,
      allowLoopback: true,
    });
    assert.deepEqual([result.ok, result.statusCode, result.errorCode], [false, null, 'timeout']);
  });

  it('refuses a blocked address at delivery time, by literal or by name, before sending anything', async () => {
    const before = seen.length;
    const strict = { timeoutMs: 1000, allowLoopback: false };
    const literal = await guardedPost(`http://127.0.0.1:${port}/ok`, {}, '{}', strict);
    assert.equal(literal.errorCode, 'address_not_allowed');
    const byName = await guardedPost(`http://localhost:${port}/ok`, {}, '{}', strict);
    assert.equal(byName.errorCode, 'address_not_allowed');
    assert.equal(seen.length, before, 'the receiver saw nothing');
  });

  it('reports a refused connection', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await guardedPost(`http://127.0.0.1:${freePort}/`, {}, '{}', loopbackAllowed);
    assert.equal(result.errorCode, 'connection_failed');
  });
});
