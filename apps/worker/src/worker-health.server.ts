import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { DatabaseHealth } from '@hearth/db';
import Redis from 'ioredis';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkerMetrics } from './metrics/worker-metrics';
import { WorkerService } from './worker.service';

/** The worker's own liveness, readiness and Prometheus metrics on WORKER_HEALTH_PORT, for compose and orchestrators. */
@Injectable()
export class WorkerHealthServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private server?: Server;
  private redis?: Redis;

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    private readonly database: DatabaseHealth,
    private readonly worker: WorkerService,
    private readonly metrics: WorkerMetrics,
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
    const checks: Record<string, string> = {};
    const probe = async (name: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
        checks[name] = 'up';
      } catch {
        checks[name] = 'down';
      }
    };
    await probe('postgres', () => this.database.ping());
    await probe('redis', async () => {
      if (this.redis!.status === 'wait') await this.redis!.connect();
      return this.redis!.ping();
    });
    checks.queue = this.worker.isRunning() ? 'up' : 'down';
    const ok = Object.values(checks).every((v) => v === 'up');
    return [ok ? 200 : 503, { status: ok ? 'ok' : 'error', checks }];
  }

  async onApplicationShutdown(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.redis?.disconnect();
  }
}
