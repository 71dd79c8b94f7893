import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseHealth } from '@hearth/db';
import type { FastifyReply } from 'fastify';
import { mediumGateway, type MediumGateway } from '../../../../test/support/medium';
import { HealthController } from './health.controller';
import { HealthModule } from './health.module';

interface Answer {
  status: number;
  body: { status: string; info?: Record<string, unknown>; error?: Record<string, unknown> };
}

/** A Fastify reply that keeps what the controller answers. */
function response(): { res: FastifyReply; answer: () => Answer } {
  let status = 0;
  let body: unknown;
  const res = {
    status(code: number) {
      status = code;
      return this;
    },
    send(value: unknown) {
      body = value;
      return this;
    },
  } as unknown as FastifyReply;
  return { res, answer: () => ({ status, body: body as Answer['body'] }) };
}

describe('/health/ready (real Postgres, Redis, key manager and dev chain)', () => {
  let gw: MediumGateway;
  let down: MediumGateway;

  before(async () => {
    [gw, down] = await Promise.all([
      mediumGateway({ imports: [HealthModule] }),
      // Postgres failing its probe: the ping is faked, everything else is real.
      mediumGateway({
        imports: [HealthModule],
        override: (builder) =>
          builder.overrideProvider(DatabaseHealth).useValue({
            ping: () => Promise.reject(new Error('connection refused')),
          }),
      }),
    ]);
  });
  after(async () => {
    await Promise.all([gw.close(), down.close()]);
  });

  it('is ready when Postgres, Redis, the key manager and the chain answer', async () => {
    const { res, answer } = response();
    await gw.get(HealthController).ready(res);
    const { status, body } = answer();
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(Object.keys(body.info ?? {}).sort(), ['chain', 'database', 'keyManager', 'redis']);
    assert.equal((body.info?.keyManager as { provider?: string }).provider, 'local');
    const redis = body.info?.redis as { persistence?: string; warning?: string };
    assert.ok(['aof', 'rdb', 'none', 'unknown'].includes(redis.persistence ?? ''), JSON.stringify(redis));
    assert.equal(
      redis.warning !== undefined,
      redis.persistence === 'none',
      'a warning only for a Redis keeping nothing',
    );
  });

  it('is not ready (503) when Postgres does not answer, naming it', async () => {
    const { res, answer } = response();
    await down.get(HealthController).ready(res);
    const { status, body } = answer();
    assert.equal(status, 503);
    assert.deepEqual(Object.keys(body.error ?? {}), ['database']);
    assert.equal((body.error?.database as { message?: string }).message, 'connection refused');
    assert.deepEqual(Object.keys(body.info ?? {}).sort(), ['chain', 'keyManager', 'redis']);
  });
});
