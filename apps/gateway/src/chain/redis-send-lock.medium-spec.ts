import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { PermissionsError } from '@hearth/permissions';
import IORedis from 'ioredis';
import { RedisSendLock } from './redis-send-lock';

describe('Redis send lock (real Redis)', () => {
  let redis: IORedis;
  const prefix = `test-lock-${randomUUID()}`;

  before(() => {
    redis = new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('lets one holder at a time run, across separate connections (as separate replicas would)', async () => {
    const connections = [0, 1, 2].map(() => redis.duplicate());
    const replicas = connections.map((connection) => new RedisSendLock(connection, { prefix }));
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        replicas[i % 3].run('relayer:1:0xabc', async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(5);
          order.push(i);
          inside--;
        }),
      ),
    );
    await Promise.all(connections.map((c) => c.quit()));
    assert.equal(most, 1);
    assert.equal(order.length, 12);
  });

  it("frees only its own lock, and a crashed holder's lock lapses after the lease", async () => {
    const lock = new RedisSendLock(redis, { prefix, leaseMs: 200, waitMs: 2000 });
    // A holder that died: its key stays until the lease ends.
    await redis.set(`${prefix}:lock:k`, 'someone-else', 'PX', 200);
    const started = Date.now();
    await lock.run('k', async () => {
      assert.ok(Date.now() - started >= 150, 'waited for the lease');
    });
    assert.equal(await redis.get(`${prefix}:lock:k`), null, 'released after the run');
    // A holder that outlived its lease: another replica took the lock meanwhile, and the late release of the
    // first must leave it alone.
    await lock.run('k2', async () => {
      await redis.set(`${prefix}:lock:k2`, 'next-holder', 'PX', 5000);
    });
    assert.equal(await redis.get(`${prefix}:lock:k2`), 'next-holder');
  });

  it('gives up with chain_unavailable when the lock stays taken past the wait', async () => {
    const lock = new RedisSendLock(redis, { prefix, waitMs: 100 });
    await redis.set(`${prefix}:lock:busy`, 'holder', 'PX', 5000);
    await assert.rejects(
      lock.run('busy', async () => assert.fail('ran without the lock')),
      (err: unknown) => err instanceof PermissionsError && err.code === 'chain_unavailable',
    );
  });
});
