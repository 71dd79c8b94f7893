import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

type Observer = ReturnType<Histogram['labels']>;

/** One registry per app instance (tests boot several in one process). */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'hearth_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly operationsEnqueued = new Counter({
    name: 'hearth_operations_enqueued_total',
    help: 'Operations accepted and queued',
    labelNames: ['operation'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'hearth_gateway_' });
  }

  /** Fastify onResponse hook: duration by route pattern (never the concrete URL: ids would explode cardinality). */
  onResponse() {
    // One child per label set, kept: resolving the labels of every observation shows in the gateway's floor.
    const series = new Map<string, Observer>();
    return (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
      const route = req.routeOptions.url ?? 'unmatched';
      const id = `${req.method} ${reply.statusCode} ${route}`;
      let child = series.get(id);
      if (!child) {
        child = this.httpDuration.labels({ method: req.method, route, status: String(reply.statusCode) });
        series.set(id, child);
      }
      child.observe(reply.elapsedTime / 1000);
      done();
    };
  }
}
