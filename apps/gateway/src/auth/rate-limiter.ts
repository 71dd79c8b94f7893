import { Inject, Injectable } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { ErrorCode, ProblemError } from '@hearth/errors';
import { QueueUnavailableError } from '@hearth/queue';
import type Redis from 'ioredis';
import { REDIS } from '../infra/infra.module';

const WINDOW_MS = 60_000;

/**
 * Fixed one-minute window per key, counted in Redis so the limit holds across gateway replicas. The window
 * opens with a key's first request (no clock shared between replicas needed); INCR and PEXPIRE run in one
 * Lua script, so no request is lost between them.
 */
const SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
`;

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

@Injectable()
export class RateLimiter {
  private readonly prefix: string;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(HEARTH_CONFIG) config: HearthConfig,
  ) {
    this.prefix = `${config.QUEUE_PREFIX}:ratelimit:`;
  }

  /** Throws QueueUnavailableError at once (a 503) when Redis is not connected: no request waits for it. */
  async hit(bucket: string, limit: number): Promise<RateDecision> {
    if (this.redis.status !== 'ready') throw new QueueUnavailableError('rate limits (Redis) are unavailable');
    const [count, ttlMs] = (await this.redis.eval(SCRIPT, 1, this.prefix + bucket, WINDOW_MS)) as [
      number,
      number,
    ];
    return {
      allowed: count <= limit,
      limit,
      remaining: Math.max(0, limit - count),
      resetSeconds: Math.max(1, Math.ceil(ttlMs / 1000)),
    };
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
}
