import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@hearth/config';
import { isQueueUnavailable } from '@hearth/queue';
import Redis from 'ioredis';
import { RateLimiter } from './rate-limiter';

/** Counts the commands a limiter sends: how many round trips its leases cost. */
function countingRedis(): { redis: Redis; commands: () => number } {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: false });
  let sent = 0;
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
    sent++;
    return send(...args);
  };
  return { redis, commands: () => sent };
}

async function ready(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
}

describe('RateLimiter (real Redis, leased windows)', () => {
  const config = loadConfig({ ...process.env, QUEUE_PREFIX: `rl-${randomUUID().slice(0, 8)}` });
  const a = countingRedis();
  const b = countingRedis();
  // Two replicas of the gateway: each its own limiter and connection, one Redis.
  const replicaA = new RateLimiter(a.redis, config);
  const replicaB = new RateLimiter(b.redis, config);

  before(() => Promise.all([ready(a.redis), ready(b.redis)]));
  after(() => {
    a.redis.disconnect();
    b.redis.disconnect();
  });

  it('counts a small limit exactly across replicas, with the remaining count and a reset', async () => {
    const bucket = `small:${randomUUID()}`;
    const seen: Array<[boolean, number]> = [];
    for (const limiter of [replicaA, replicaB, replicaA, replicaB, replicaA]) {
      const rate = await limiter.hit(bucket, 3);
      seen.push([rate.allowed, rate.remaining]);
      assert.ok(rate.resetSeconds >= 1 && rate.resetSeconds <= 60);
    }
    assert.deepEqual(seen, [
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
      [false, 0],
    ]);
  });

  it('a large limit costs one Redis round trip per slice, not per request', async () => {
    const bucket = `large:${randomUUID()}`;
    const before = a.commands();
    for (let i = 0; i < 640; i++) assert.equal((await replicaA.hit(bucket, 1_000_000)).allowed, true);
    const sent = a.commands() - before;
    assert.ok(sent <= 12, `${sent} commands for 640 requests`);
  });

  it('concurrent requests on two replicas never admit more than the limit', async () => {
    const bucket = `race:${randomUUID()}`;
    const limit = 1_000;
    const hits = await Promise.all(
      Array.from({ length: 1_500 }, (_, i) => (i % 2 ? replicaA : replicaB).hit(bucket, limit)),
    );
    const admitted = hits.filter((h) => h.allowed).length;
    assert.ok(admitted <= limit, `${admitted} admitted`);
    // What a replica leased and did not use is lost to the window: at most a slice (10 here) per replica.
    assert.ok(admitted >= limit - 2 * 10, `${admitted} admitted`);
  });

  it('answers 503 at once when Redis is not connected', async () => {
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false });
    try {
      const limiter = new RateLimiter(down, config);
      await assert.rejects(limiter.hit('any', 10), (err: unknown) => isQueueUnavailable(err));
    } finally {
      down.disconnect();
    }
  });
});
