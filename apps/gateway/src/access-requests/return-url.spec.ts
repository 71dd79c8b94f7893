import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HearthConfig } from '@hearth/config';
import { ReturnUrlNotifier } from './return-url';

describe('ReturnUrlNotifier', () => {
  let server: Server;
  let port: number;
  const seen: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        seen.push(body);
        res.end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  const notifier = (nodeEnv: HearthConfig['NODE_ENV']) =>
    new ReturnUrlNotifier({ NODE_ENV: nodeEnv } as HearthConfig);

  it('posts {requestId, status} to an app on this machine outside production', async () => {
    seen.length = 0;
    await notifier('development').notify(`http://localhost:${port}/cb`, {
      requestId: 'req_1',
      status: 'approved',
    });
    assert.deepEqual(
      seen.map((b) => JSON.parse(b) as unknown),
      [{ requestId: 'req_1', status: 'approved' }],
    );
  });

  it('in production never reaches a name or literal that resolves to this machine, checked at connect', async () => {
    seen.length = 0;
    const production = notifier('production');
    await production.notify(`http://localhost:${port}/cb`, { requestId: 'req_2', status: 'approved' });
    await production.notify(`http://127.0.0.1:${port}/cb`, { requestId: 'req_3', status: 'approved' });
    await production.notify(`http://[::ffff:127.0.0.1]:${port}/cb`, { requestId: 'req_4', status: 'denied' });
    assert.deepEqual(seen, []);
  });

  it('never throws, whatever the URL or the receiver does', async () => {
    await notifier('development').notify('not a url', { requestId: 'req_5', status: 'approved' });
    await notifier('development').notify(`http://localhost:1/down`, {
      requestId: 'req_6',
      status: 'approved',
    });
  });
});
