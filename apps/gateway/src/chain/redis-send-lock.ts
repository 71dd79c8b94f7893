import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { PermissionsError, type SendLock } from '@hearth/permissions';
import { releaseLock } from '@hearth/queue';
import type Redis from 'ioredis';

export interface RedisSendLockOptions {
  /** Key prefix (QUEUE_PREFIX), so several deployments can share one Redis. */
  prefix: string;
  /** How long a holder may keep the lock; a crashed holder blocks the others for at most this. */
  leaseMs?: number;
  /** How long to wait for the lock before giving up with `chain_unavailable`. */
  waitMs?: number;
}

/**
 * The relayer's send lock across gateway replicas: SET NX PX with a random token, polled with a capped backoff,
 * released by compare-and-delete. It covers reading the account's pending nonce and sending one transaction
 * (tens of milliseconds), not the wait for it to be mined.
 */
export class RedisSendLock implements SendLock {
  private readonly leaseMs: number;
  private readonly waitMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisSendLockOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.waitMs = options.waitMs ?? 60_000;
  }

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const lockKey = `${this.options.prefix}:lock:${key}`;
    const token = randomUUID();
    const deadline = Date.now() + this.waitMs;
    let backoffMs = 5;
    for (;;) {
      let acquired: string | null;
      try {
        acquired = await this.redis.set(lockKey, token, 'PX', this.leaseMs, 'NX');
      } catch (err) {
        throw new PermissionsError('chain_unavailable', 'the relayer lock (Redis) is unavailable', [], {
          cause: err,
        });
      }
      if (acquired === 'OK') break;
      if (Date.now() >= deadline)
        throw new PermissionsError('chain_unavailable', 'the relayer is busy; try again');
      await sleep(backoffMs + Math.random() * backoffMs);
      backoffMs = Math.min(backoffMs * 2, 100);
    }
    try {
      return await fn();
    } finally {
      await releaseLock(this.redis, lockKey, token).catch(() => undefined);
    }
  }
}
