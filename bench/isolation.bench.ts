/*
 * Baseline cost of isolation: a bare BullMQ round trip (enqueue → completion event) whose processor runs a
 * no-op task in a pooled or per-job child, against the same round trip with an in-process no-op processor.
 * Closed loop: `c` clients each enqueue a job and wait for its completion, the worker runs at concurrency `c`.
 *
 *   node dist/bench/isolation.bench.js [--duration=3000] [--concurrency=1,4,16,64]
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { Queue, QueueEvents, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { ChildPool, type IsolationMode } from '../apps/worker/src/isolation';

// why: a standalone bench script, not app code; it takes the same variable the apps get through libs/config.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DURATION_MS = Number(arg('duration') ?? 3000);
const WARMUP_MS = 500;
// After the window, jobs still running get this long before the scenario gives up on them (counted unfinished).
const DRAIN_MS = 3000;
const CONCURRENCY = (arg('concurrency') ?? '1,4,16,64').split(',').map(Number);

type Variant = 'in-process' | IsolationMode;

interface Result {
  variant: Variant;
  concurrency: number;
  jobs: number;
  failed: number;
  unfinished: number;
  perSecond: number;
  p50: number;
  p99: number;
}

function arg(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function connect(): IORedis {
  // BullMQ workers need maxRetriesPerRequest: null on their connections.
  return new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
}

async function runScenario(variant: Variant, concurrency: number): Promise<Result> {
  const queueName = `bench-isolation-${variant}-${concurrency}-${randomUUID()}`;
  let pool: ChildPool | undefined;
  if (variant !== 'in-process') {
    pool = new ChildPool({
      mode: variant,
      size: concurrency,
      spares: Math.min(concurrency, 8),
      jobTimeoutMs: 30_000,
      stdio: 'ignore',
    });
    await pool.ready();
  }
  const activePool = pool;
  const processor = activePool ? () => activePool.run('noop') : () => Promise.resolve(null);

  const connections = [connect(), connect(), connect()];
  const queue = new Queue(queueName, { connection: connections[0] });
  const events = new QueueEvents(queueName, { connection: connections[1] });
  const worker = new Worker(queueName, processor, { connection: connections[2], concurrency });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), worker.waitUntilReady()]);

  // Completion callbacks keyed by a job id chosen before enqueueing, so no event can beat its listener.
  const pending = new Map<string, (ok: boolean) => void>();
  events.on('completed', ({ jobId }) => pending.get(jobId)?.(true));
  events.on('failed', ({ jobId }) => pending.get(jobId)?.(false));

  // A job counts when it completes inside the window, so the rate stays right even when latency exceeds it.
  const latencies: number[] = [];
  let failed = 0;
  let inFlight = 0;
  const warmEnd = performance.now() + WARMUP_MS;
  const end = warmEnd + DURATION_MS;

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
    drainTimer = setTimeout(resolve, WARMUP_MS + DURATION_MS + DRAIN_MS);
  });
  await Promise.race([Promise.all(Array.from({ length: concurrency }, client)), drained]);
  clearTimeout(drainTimer);
  const unfinished = inFlight;
  const poolStats = pool?.stats();
  if (poolStats) {
    const { spawned, recycled, crashed, timedOut, startFailures } = poolStats;
    console.error(
      `  ${variant} c=${concurrency} pool: ${JSON.stringify({ spawned, recycled, crashed, timedOut, startFailures })}`,
    );
  }

  // The pool first, so jobs it still runs fail fast instead of holding worker.close().
  await pool?.close(1000);
  await worker.close(true);
  await events.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await Promise.all(connections.map((c) => c.quit()));

  latencies.sort((a, b) => a - b);
  return {
    variant,
    concurrency,
    jobs: latencies.length,
    failed,
    unfinished,
    perSecond: latencies.length / (DURATION_MS / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

function printTable(results: Result[]): void {
  const baseline = new Map(results.filter((r) => r.variant === 'in-process').map((r) => [r.concurrency, r]));
  const header = [
    'mode',
    'conc',
    'jobs',
    'failed',
    'unfinished',
    'jobs/s',
    'p50 ms',
    'p99 ms',
    'jobs/s ×',
    'p50 ×',
    'p99 ×',
  ];
  const rows = results.map((r) => {
    const base = baseline.get(r.concurrency);
    const ratio = (v: number, b: number | undefined): string => (b ? `${(v / b).toFixed(2)}` : '-');
    return [
      r.variant,
      String(r.concurrency),
      String(r.jobs),
      String(r.failed),
      String(r.unfinished),
      r.perSecond.toFixed(0),
      r.p50.toFixed(2),
      r.p99.toFixed(2),
      ratio(r.perSecond, base?.perSecond),
      ratio(r.p50, base?.p50),
      ratio(r.p99, base?.p99),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

async function main(): Promise<void> {
  console.log(
    `isolation bench: node ${process.version}, ${availableParallelism()} CPUs, redis ${REDIS_URL.replace(/\/\/[^@]*@/, '//***@')}, ` +
      `${DURATION_MS} ms per scenario after ${WARMUP_MS} ms warm-up, closed loop (c clients, worker concurrency c)`,
  );
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log('ratios (×) are against the in-process no-op processor at the same concurrency\n');
  const results: Result[] = [];
  for (const variant of (arg('modes') ?? 'in-process,pooled,per-job').split(',') as Variant[]) {
    for (const concurrency of CONCURRENCY) {
      const result = await runScenario(variant, concurrency);
      results.push(result);
      console.error(
        `  ${variant} c=${concurrency}: ${result.perSecond.toFixed(0)} jobs/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms`,
      );
    }
  }
  console.log('');
  printTable(results);
  console.log(
    `\nload average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
