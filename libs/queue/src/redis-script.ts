import { createHash } from 'node:crypto';
import type Redis from 'ioredis';

/**
 * A Lua script sent by its SHA1 (EVALSHA): sending the source with every EVAL costs more than the command on
 * a hot path. The first call on a Redis that has not seen the script (a restart, a failover) falls back to
 * EVAL, which also caches it there.
 */
export class RedisScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: Array<string | number> = []): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

// Frees a lock only for the holder that took it: a holder that outlived its lease must not free the next one's.
const RELEASE_LOCK = new RedisScript(
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
);

/** Deletes the lock `key` if it still holds `token` (taken with SET key token NX PX …). */
export async function releaseLock(redis: Redis, key: string, token: string): Promise<void> {
  await RELEASE_LOCK.run(redis, [key], [token]);
}
