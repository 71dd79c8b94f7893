import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { OperationQueue } from '@hearth/queue';
import { IsolationPool } from '../pipeline/isolation-pool';

/** Steps of an operation as the worker times them (ms in `timings`, seconds here). */
export const OPERATION_STEPS = [
  'queueWait',
  'load',
  'chain',
  'kms',
  'decrypt',
  'engine',
  'seal',
  'childOverhead',
  'store',
] as const;

/**
 * The worker's Prometheus metrics, served at `GET /metrics` on WORKER_HEALTH_PORT: where an operation's time goes
 * (per step), outcomes, and the isolated children's lifecycle. One registry per app instance (tests boot several).
 */
@Injectable()
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly stepDuration = new Histogram({
    name: 'hearth_worker_operation_step_seconds',
    help: 'Time an operation spent in each step (queue wait, load, chain check, KMS, decrypt, engine, seal, store)',
    labelNames: ['step'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly operations = new Counter({
    name: 'hearth_worker_operations_total',
    help: 'Operations the worker finished, by operation and outcome (succeeded, failed, denied)',
    labelNames: ['operation', 'outcome'],
    registers: [this.registry],
  });

  constructor(isolation: IsolationPool, queue: OperationQueue) {
    // The queue's depth, for autoscalers (KEDA's Prometheus trigger): BullMQ keeps prioritized jobs (every
    // operation's, for fairness) in a sorted set that a Redis list scaler cannot count.
    new Gauge({
      name: 'hearth_queue_jobs',
      help: 'Jobs in the operations queue, by state (waiting, prioritized, active, delayed); the same from every worker',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        try {
          const counts = await queue.queue.getJobCounts('wait', 'prioritized', 'active', 'delayed');
          this.set({ state: 'waiting' }, counts.wait ?? 0);
          this.set({ state: 'prioritized' }, counts.prioritized ?? 0);
          this.set({ state: 'active' }, counts.active ?? 0);
          this.set({ state: 'delayed' }, counts.delayed ?? 0);
        } catch {
          // Redis unavailable: readiness says so; /metrics still answers with the last values.
        }
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'hearth_worker_' });
    new Gauge({
      name: 'hearth_worker_children_total',
      help: 'Isolated children over the life of this worker, by event (spawned, recycled, crashed, timed out)',
      labelNames: ['event'],
      registers: [this.registry],
      collect() {
        const stats = isolation.pool.stats();
        this.set({ event: 'spawned' }, stats.spawned);
        this.set({ event: 'recycled' }, stats.recycled);
        this.set({ event: 'crashed' }, stats.crashed);
        this.set({ event: 'timed_out' }, stats.timedOut);
      },
    });
    new Gauge({
      name: 'hearth_worker_children',
      help: 'Isolated children now, by state (starting, idle, busy)',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const { children } = isolation.pool.stats();
        for (const state of ['starting', 'idle', 'busy'] as const) this.set({ state }, children[state]);
      },
    });
  }

  /** Records one finished operation: its outcome and the steps it went through (timings in ms). */
  observe(operation: string, outcome: string, timingsMs: Partial<Record<string, number>>): void {
    this.operations.inc({ operation, outcome });
    for (const step of OPERATION_STEPS) {
      const ms = timingsMs[`${step}Ms`];
      if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0)
        this.stepDuration.observe({ step }, ms / 1000);
    }
  }
}
