import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { DatabaseHealth } from '@hearth/db';
import { type KeyManager, keyManagerFromConfig } from '@hearth/kms';
import { OperationQueue } from '@hearth/queue';
import Redis from 'ioredis';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkerMetrics } from './metrics/worker-metrics';
import { IsolationPool } from './pipeline/isolation-pool';
import { WorkerService } from './worker.service';
import { PinoLogger } from 'nestjs-pino';

const CHECK_TIMEOUT_MS = 2000;

/** Said (in readiness and once in the log) of a Redis that keeps nothing across a restart. */
const REDIS_NOT_PERSISTENT =
  'Redis persists nothing (appendonly no, no save): a restart forgets every queued job until the reconciler re-queues it; use appendonly yes with appendfsync everysec';

type Check = { status: 'up' } | { status: 'down'; message: string };

/**
 * The worker's own liveness, readiness and Prometheus metrics on WORKER_HEALTH_PORT, for compose and
 * orchestrators. Readiness names each dependency an operation needs: database, redis, chain, keyManager, and
 * whether this worker consumes the queue.
 */
@Injectable()
export class WorkerHealthServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private server?: Server;
  private redis?: Redis;
  private keys?: Promise<KeyManager>;
  private warned = false;

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    private readonly database: DatabaseHealth,
    private readonly worker: WorkerService,
    private readonly metrics: WorkerMetrics,
    private readonly queue: OperationQueue,
    private readonly logger: PinoLogger,
    private readonly isolation: IsolationPool,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.redis = new Redis(this.config.REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
    this.server = createServer((req, res) => {
      if (req.url === '/metrics') {
        void this.metrics.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
          () => res.writeHead(500).end(),
        );
        return;
      }
      void this.answer(req.url ?? '/').then(([status, body]) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) =>
      this.server!.listen(this.config.WORKER_HEALTH_PORT, this.config.HOST, resolve),
    );
  }

  port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  private async answer(url: string): Promise<[number, unknown]> {
    if (url === '/health/live') return [200, { status: 'ok' }];
    if (url !== '/health/ready') return [404, { status: 'error', message: 'not found' }];
    const checks: Record<string, Check> = {};
    const probe = async (name: string, fn: () => Promise<unknown>) => {
      try {
        await withTimeout(fn(), CHECK_TIMEOUT_MS);
        checks[name] = { status: 'up' };
      } catch (err) {
        checks[name] = { status: 'down', message: err instanceof Error ? err.message : String(err) };
      }
    };
    await Promise.all([
      probe('database', () => this.database.ping()),
      probe('redis', async () => {
        if (this.redis!.status === 'wait') await this.redis!.connect();
        return this.redis!.ping();
      }),
      probe('chain', () => this.chainBlockNumber()),
      probe('keyManager', async () => (await this.keyManager()).health()),
    ]);
    checks.queue = this.worker.isRunning() ? { status: 'up' } : { status: 'down', message: 'not consuming' };
    const ok = Object.values(checks).every((c) => c.status === 'up');
    // How the sandboxes that read tenant data are confined here (what receipts state as sandboxLevel).
    const body: Record<string, unknown> = {
      status: ok ? 'ok' : 'error',
      checks,
      sandbox: this.isolation.sandbox,
    };
    if (checks.redis.status === 'up') {
      const persistence = await this.queue.persistence();
      body.redisPersistence = persistence;
      if (persistence === 'none') {
        body.warnings = [REDIS_NOT_PERSISTENT];
        if (!this.warned) {
          this.warned = true;
          this.logger.warn(REDIS_NOT_PERSISTENT);
        }
      }
    }
    return [ok ? 200 : 503, body];
  }

  /** The chain's head, from CHAIN_RPC_URL: the worker checks every grant there when an operation runs. */
  private async chainBlockNumber(): Promise<string> {
    const res = await fetch(this.config.CHAIN_RPC_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
      signal: AbortSignal.timeout(Math.min(CHECK_TIMEOUT_MS, this.config.CHAIN_TIMEOUT_MS)),
    });
    const body = (await res.json()) as { result?: string; error?: { message?: string } };
    if (typeof body.result !== 'string')
      throw new Error(body.error?.message ?? `chain answered ${res.status}`);
    return body.result;
  }

  /** The key manager the children use, from the same config (the parent already reads it to hand them). */
  private keyManager(): Promise<KeyManager> {
    this.keys ??= keyManagerFromConfig(this.config);
    this.keys.catch(() => (this.keys = undefined));
    return this.keys;
  }

  async onApplicationShutdown(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.redis?.disconnect();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
