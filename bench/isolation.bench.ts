/*
 * Baseline cost of isolation: a bare BullMQ round trip (enqueue → completion event) whose processor runs a
 * no-op task in a pooled or per-job child, against the same round trip with an in-process no-op processor.
 * Closed loop: `c` clients each enqueue a job and wait for its completion, the worker runs at concurrency `c`.
 * Every round runs every mode, the baseline first in even rounds and last in odd ones (the order flips); each
 * figure is the median over the rounds and each ratio the median of the per-round ratios.
 *
 *   node dist/bench/isolation.bench.js [--duration=3000] [--concurrency=1,4,16,64] [--rounds=2]
 */
import { availableParallelism, loadavg } from 'node:os';
import { ChildPool, type IsolationMode } from '../apps/worker/src/isolation';
import { WORKER_CHILD_SCRIPT } from '../apps/worker/src/pipeline/isolation-pool';
import { bullmqRoundTrip } from './lib/bullmq-round-trip';

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
  /** Against the in-process baseline of the same round and concurrency: medians over the rounds. */
  ratios?: { perSecond: number; p50: number; p99: number };
}

const ROUNDS = Number(arg('rounds') ?? 2);

function median(values: number[]): number {
  const s = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function mergeRounds(perRound: Result[][]): Result[] {
  const groups = new Map<string, Array<{ r: Result; base?: Result }>>();
  for (const round of perRound) {
    const base = new Map(round.filter((r) => r.variant === 'in-process').map((r) => [r.concurrency, r]));
    for (const r of round) {
      const key = `${r.variant}@${r.concurrency}`;
      groups.set(key, [...(groups.get(key) ?? []), { r, base: base.get(r.concurrency) }]);
    }
  }
  return [...groups.values()].map((group) => {
    const rs = group.map((g) => g.r);
    const ratio = (fn: (r: Result) => number) =>
      median(group.filter((g) => g.base).map((g) => fn(g.r) / fn(g.base as Result)));
    return {
      variant: rs[0].variant,
      concurrency: rs[0].concurrency,
      jobs: rs.reduce((a, r) => a + r.jobs, 0),
      failed: rs.reduce((a, r) => a + r.failed, 0),
      unfinished: rs.reduce((a, r) => a + r.unfinished, 0),
      perSecond: median(rs.map((r) => r.perSecond)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      ratios: { perSecond: ratio((r) => r.perSecond), p50: ratio((r) => r.p50), p99: ratio((r) => r.p99) },
    };
  });
}

function arg(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function runScenario(variant: Variant, concurrency: number): Promise<Result> {
  let pool: ChildPool | undefined;
  if (variant !== 'in-process') {
    pool = new ChildPool({
      // The worker's own children (their warm-up included), running the no-op task.
      childScript: WORKER_CHILD_SCRIPT,
      mode: variant,
      size: concurrency,
      spares: Math.min(concurrency, 8),
      jobTimeoutMs: 30_000,
      stdio: 'ignore',
    });
    await pool.ready();
  }
  const activePool = pool;
  const { latencies, failed, unfinished } = await bullmqRoundTrip({
    redisUrl: REDIS_URL,
    name: `bench-isolation-${variant}-${concurrency}`,
    concurrency,
    workerConcurrency: concurrency,
    processor: activePool ? () => activePool.run('noop') : () => Promise.resolve(null),
    warmupMs: WARMUP_MS,
    durationMs: DURATION_MS,
    drainMs: DRAIN_MS,
    beforeClose: async () => {
      const poolStats = pool?.stats();
      if (poolStats) {
        const { spawned, recycled, crashed, timedOut, startFailures } = poolStats;
        console.error(
          `  ${variant} c=${concurrency} pool: ${JSON.stringify({ spawned, recycled, crashed, timedOut, startFailures })}`,
        );
      }
      // The pool first, so jobs it still runs fail fast instead of holding the worker's close.
      await pool?.close(1000);
    },
  });

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
    const ratio = (v: number | undefined): string =>
      r.variant === 'in-process' || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(2);
    return [
      r.variant,
      String(r.concurrency),
      String(r.jobs),
      String(r.failed),
      String(r.unfinished),
      r.perSecond.toFixed(0),
      r.p50.toFixed(2),
      r.p99.toFixed(2),
      ratio(r.ratios?.perSecond),
      ratio(r.ratios?.p50),
      ratio(r.ratios?.p99),
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
  const modes = (arg('modes') ?? 'in-process,pooled,per-job').split(',') as Variant[];
  const perRound: Result[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    console.error(`round ${round + 1} of ${ROUNDS}`);
    const results: Result[] = [];
    for (const variant of round % 2 ? [...modes].reverse() : modes) {
      for (const concurrency of CONCURRENCY) {
        const result = await runScenario(variant, concurrency);
        results.push(result);
        console.error(
          `  ${variant} c=${concurrency}: ${result.perSecond.toFixed(0)} jobs/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms`,
        );
      }
    }
    perRound.push(results);
  }
  console.log(`medians over ${ROUNDS} rounds\n`);
  printTable(
    mergeRounds(perRound).sort(
      (x, y) => modes.indexOf(x.variant) - modes.indexOf(y.variant) || x.concurrency - y.concurrency,
    ),
  );
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
