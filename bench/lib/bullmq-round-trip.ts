/*
 * The bare BullMQ round trip both the isolation and the pipeline benches measure: `concurrency` clients each
 * enqueue a job and wait for its completion event, against a worker running `processor`.
 */
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, Worker } from 'bullmq';
import IORedis from 'ioredis';

export interface RoundTripOptions {
  redisUrl: string;
  /** Queue name prefix; a random suffix keeps runs apart. */
  name: string;
  /** Clients, each with one job in flight. */
  concurrency: number;
  workerConcurrency: number;
  processor: () => Promise<unknown>;
  warmupMs: number;
  durationMs: number;
  /** After the window, jobs still in flight get this long before they are counted unfinished. */
  drainMs: number;
  /** Called when the clock of the warm-up and window starts (e.g. to start measuring CPU). */
  onStart?: () => void;
  /** Called after the clients stopped, before the worker closes (e.g. to close a child pool first). */
  beforeClose?: () => Promise<void>;
}

export interface RoundTripResult {
  /** Round-trip times of the jobs that completed inside the window, in ms. */
  latencies: number[];
  failed: number;
  unfinished: number;
}

export async function bullmqRoundTrip(o: RoundTripOptions): Promise<RoundTripResult> {
  const queueName = `${o.name}-${randomUUID()}`;
  // BullMQ workers need maxRetriesPerRequest: null on their connections.
  const connections = [0, 1, 2].map(() => new IORedis(o.redisUrl, { maxRetriesPerRequest: null }));
  const queue = new Queue(queueName, { connection: connections[0] });
  const events = new QueueEvents(queueName, { connection: connections[1] });
  const worker = new Worker(queueName, o.processor, {
    connection: connections[2],
    concurrency: o.workerConcurrency,
  });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), worker.waitUntilReady()]);

  // Completion callbacks keyed by a job id chosen before enqueueing, so no event can beat its listener.
  const pending = new Map<string, (ok: boolean) => void>();
  events.on('completed', ({ jobId }) => pending.get(jobId)?.(true));
  events.on('failed', ({ jobId }) => pending.get(jobId)?.(false));

  // A job counts when it completes inside the window, so the rate stays right even when latency exceeds it.
  const latencies: number[] = [];
  let failed = 0;
  let inFlight = 0;
  o.onStart?.();
  const warmEnd = performance.now() + o.warmupMs;
  const end = warmEnd + o.durationMs;
  const client = async (): Promise<void> => {
    while (performance.now() < end) {
      const jobId = randomUUID();
      const t0 = performance.now();
      const done = new Promise<boolean>((resolve) => pending.set(jobId, resolve));
      inFlight++;
      await queue.add('noop', {}, { jobId, removeOnComplete: true, removeOnFail: true });
      const ok = await done;
      inFlight--;
      pending.delete(jobId);
      const t1 = performance.now();
      if (t1 < warmEnd || t1 > end) continue;
      if (ok) latencies.push(t1 - t0);
      else failed++;
    }
  };
  let drainTimer: NodeJS.Timeout | undefined;
  const drained = new Promise<void>((resolve) => {
    drainTimer = setTimeout(resolve, o.warmupMs + o.durationMs + o.drainMs);
  });
  await Promise.race([Promise.all(Array.from({ length: o.concurrency }, client)), drained]);
  clearTimeout(drainTimer);
  const unfinished = inFlight;

  await o.beforeClose?.();
  await worker.close(true);
  await events.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await Promise.all(connections.map((c) => c.quit()));
  return { latencies, failed, unfinished };
}
