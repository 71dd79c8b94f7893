import { Controller, Get, Inject, Logger, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { DatabaseHealth } from '@hearth/db';
import { OperationQueue } from '@hearth/queue';
import type { FastifyReply } from 'fastify';
import type Redis from 'ioredis';
import { REDIS } from '../infra/infra.module';
import { ReadinessRegistry } from '../infra/readiness.registry';

const CHECK_TIMEOUT_MS = 2000;

/** Said (in readiness and once in the log) of a Redis that keeps nothing across a restart. */
export const REDIS_NOT_PERSISTENT =
  'Redis persists nothing (appendonly no, no save): a restart forgets every queued job until the reconciler re-queues it; use appendonly yes with appendfsync everysec';

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

@ApiTags('ops')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly registry: ReadinessRegistry,
    private readonly database: DatabaseHealth,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly queue: OperationQueue,
  ) {}

  private readonly logger = new Logger('health');
  private warned = false;

  @Get('live')
  @ApiOperation({ summary: 'The process is up' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary:
      'database, redis, chain and keyManager answer (redis says what it persists, and warns of nothing)',
  })
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const checks = [
      () => this.probe('database', () => this.database.ping()),
      () => this.probe('redis', () => this.redisCheck()),
      ...this.registry.entries().map(
        ([name, check]) =>
          () =>
            this.probe(name, check),
      ),
    ];
    try {
      await reply.status(200).send(await this.health.check(checks));
    } catch (err) {
      // terminus throws a 503 carrying the full report; keep its shape, it is what probes and people read.
      const report = (err as { getResponse?: () => unknown }).getResponse?.() ?? { status: 'error' };
      await reply.status(503).send(report);
    }
  }

  /** Redis answers; what it keeps across a restart, with a warning (not a failure) when it keeps nothing. */
  private async redisCheck(): Promise<Record<string, unknown>> {
    await this.redis.ping();
    const persistence = await this.queue.persistence();
    if (persistence !== 'none') return { persistence };
    if (!this.warned) {
      this.warned = true;
      this.logger.warn(REDIS_NOT_PERSISTENT);
    }
    return { persistence, warning: REDIS_NOT_PERSISTENT };
  }

  private async probe(name: string, fn: () => Promise<unknown>): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(name);
    try {
      const details = await withTimeout(fn(), CHECK_TIMEOUT_MS);
      return indicator.up(details && typeof details === 'object' ? (details as Record<string, unknown>) : {});
    } catch (err) {
      return indicator.down({ message: err instanceof Error ? err.message : String(err) });
    }
  }
}
