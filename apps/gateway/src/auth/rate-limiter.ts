import { Inject, Injectable } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { ErrorCode, ProblemError } from '@hearth/errors';
import { QueueUnavailableError, RedisScript } from '@hearth/queue';
import type Redis from 'ioredis';
import { REDIS } from '../infra/infra.module';

const WINDOW_MS = 60_000;
/** A replica takes at most this many of a window's requests at once (one Redis round trip for all of them). */
const MAX_LEASE = 64;
/** Past this many buckets held in memory, the ones whose window has ended are dropped. */
const SWEEP_ABOVE = 10_000;

/**
 * Fixed one-minute window per bucket, counted in Redis so the limit holds across gateway replicas. The window
 * opens with a bucket's first request (no clock shared between replicas); INCRBY and PEXPIRE run in one script,
 * so nothing is lost between them.
 */
const LEASE = new RedisScript(`
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
`);

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

/** Requests of one bucket's current window that this replica took from Redis and has not used yet. */
interface Lease {
  limit: number;
  tokens: number;
  /** The window's count in Redis after this replica's last lease: every replica's leases, used or not. */
  counted: number;
  windowEndsAt: number;
  /** A lease on its way from Redis: requests that find the bucket empty wait for it rather than ask again. */
  refill?: Promise<void>;
}

/**
 * The rate limiter behind every per-key, per-account and per-IP limit. A replica leases a slice of a window
 * (1 request for limits under 200 a minute, up to 64 for large ones) and counts it down in memory, so a busy key
 * costs one Redis round trip per slice instead of one per request. Leases never add up past the limit, so no
 * replica admits more than it; what a replica leased and did not use before the window ended is lost, which
 * refuses at most 1% of a large limit early per replica, and nothing of a small one.
 */
@Injectable()
export class RateLimiter {
  private readonly prefix: string;
  private readonly leases = new Map<string, Lease>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(HEARTH_CONFIG) config: HearthConfig,
  ) {
    this.prefix = `${config.QUEUE_PREFIX}:ratelimit:`;
  }

  /** Throws QueueUnavailableError at once (a 503) when Redis is not connected: no request waits for it. */
  async hit(bucket: string, limit: number): Promise<RateDecision> {
    if (this.redis.status !== 'ready') throw new QueueUnavailableError('rate limits (Redis) are unavailable');
    for (;;) {
      const now = Date.now();
      let lease = this.leases.get(bucket);
      if (lease && (lease.windowEndsAt <= now || lease.limit !== limit) && !lease.refill) {
        this.leases.delete(bucket);
        lease = undefined;
      }
      if (lease && lease.tokens > 0) {
        lease.tokens--;
        return this.decision(true, lease, now);
      }
      // The window's every request is leased (here or elsewhere): refused until it ends, without asking Redis.
      if (lease && !lease.refill && lease.counted >= limit) return this.decision(false, lease, now);
      if (lease?.refill) {
        await lease.refill;
        continue;
      }
      const fresh: Lease = lease ?? { limit, tokens: 0, counted: 0, windowEndsAt: Infinity };
      fresh.refill = this.lease(bucket, fresh).finally(() => (fresh.refill = undefined));
      if (!lease) this.leases.set(bucket, fresh);
      await fresh.refill;
    }
  }

  /** Counts a request in `bucket`; past `limit` per minute, 429 `rate_limited` with Retry-After. */
  async enforce(bucket: string, limit: number, per: string): Promise<RateDecision> {
    const rate = await this.hit(bucket, limit);
    if (!rate.allowed) {
      throw new ProblemError(
        429,
        ErrorCode.rate_limited,
        `At most ${limit} requests per minute ${per}`,
        undefined,
        {
          'Retry-After': String(rate.resetSeconds),
          'RateLimit-Limit': String(rate.limit),
          'RateLimit-Remaining': '0',
          'RateLimit-Reset': String(rate.resetSeconds),
        },
      );
    }
    return rate;
  }

  private async lease(bucket: string, lease: Lease): Promise<void> {
    const size = Math.min(MAX_LEASE, Math.max(1, Math.floor(lease.limit / 100)));
    let reply: [number, number];
    try {
      reply = (await LEASE.run(this.redis, [this.prefix + bucket], [WINDOW_MS, size])) as [number, number];
    } catch (err) {
      this.leases.delete(bucket);
      throw err;
    }
    const [count, ttlMs] = reply;
    lease.tokens += Math.max(0, Math.min(size, lease.limit - (count - size)));
    lease.counted = count;
    lease.windowEndsAt = Date.now() + ttlMs;
    if (this.leases.size > SWEEP_ABOVE) this.sweep();
  }

  private decision(allowed: boolean, lease: Lease, now: number): RateDecision {
    return {
      allowed,
      limit: lease.limit,
      remaining: allowed ? Math.max(0, lease.limit - lease.counted + lease.tokens) : 0,
      resetSeconds: Math.max(1, Math.ceil((lease.windowEndsAt - now) / 1000)),
    };
  }

  private sweep(): void {
    const now = Date.now();
    for (const [bucket, lease] of this.leases) {
      if (lease.windowEndsAt <= now && !lease.refill) this.leases.delete(bucket);
    }
  }
}
