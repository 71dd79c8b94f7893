/*
 * What the sandbox costs. 1. Pooled throughput of the real operation task (decrypt a 1 KiB file, `stats`, seal the
 * result) in namespaced sandboxes against unconfined pooled children, in alternating rounds of the same run (so
 * a load change on the host hits both). 2. Per-job start: spawn → ready of a fresh sandbox (it loads no engine
 * until its one job asks), and a per-job operation end to end, each against an unconfined child.
 *
 *   node dist/bench/sandbox.bench.js [--rounds=3] [--duration=2000] [--concurrency=2] [--starts=20]
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileChunkAad, metadataAad } from '@hearth/blobs';
import { encryptChunks, sealValue } from '@hearth/crypto';
import { ChildPool, type IsolationMode } from '../apps/worker/src/isolation';
import { codePathsFor, probeSandbox, type SandboxSpec } from '../apps/worker/src/isolation/sandbox';
import { WORKER_CHILD_SCRIPT } from '../apps/worker/src/pipeline/isolation-pool';
import type { SandboxTaskInput, SandboxTaskOutput } from '../apps/worker/src/pipeline/operation-task.types';
import { NOTE_1KIB } from './lib/stack';

const ROUNDS = Number(arg('rounds') ?? 3);
const DURATION_MS = Number(arg('duration') ?? 2000);
const CONCURRENCY = Number(arg('concurrency') ?? 2);
const STARTS = Number(arg('starts') ?? 20);

function arg(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** One `stats` job over one server-encrypted 1 KiB file, as the broker would hand it over. */
function operationInput(): SandboxTaskInput {
  const serverId = 'srv_bench';
  const operationId = 'op_bench';
  const fileId = 'fil_bench';
  const metadataKey = randomBytes(32);
  const dataKey = randomBytes(32);
  const seal = (field: Parameters<typeof metadataAad>[1], rowId: string, text: string) =>
    sealValue(metadataKey, metadataAad(serverId, field, rowId), Buffer.from(text, 'utf8'));
  return {
    operationId,
    serverId,
    operation: 'stats',
    sealedParameters: seal('operation.parameters', operationId, '{}'),
    metadataKey,
    resultKey: randomBytes(32),
    k: 1,
    inference: {},
    files: [
      {
        fileId,
        sealedName: seal('file.name', fileId, 'note.txt'),
        sealedContentType: seal('file.contentType', fileId, 'text/plain'),
        encryption: 'server',
        chunks: encryptChunks(dataKey, fileChunkAad(serverId, fileId), Buffer.from(NOTE_1KIB)).map(
          (c) => c.sealed,
        ),
        contributor: '0x0000000000000000000000000000000000000001',
        dataKey,
        envelopeKey: null,
        ciphertextSha256: '',
        sealedIndex: null,
      },
    ],
    privacy: null,
  };
}

function sandboxSpec(): SandboxSpec {
  const probe = probeSandbox('namespaced');
  return {
    level: probe.level,
    probe,
    limits: { addressSpaceMb: 2048, cpuSeconds: 0, maxProcesses: 64 },
    readOnlyPaths: codePathsFor(WORKER_CHILD_SCRIPT),
    shareNetwork: false,
  };
}

function newPool(
  mode: IsolationMode,
  sandbox: SandboxSpec | undefined,
  onReady?: (ms: number) => void,
): ChildPool {
  return new ChildPool({
    childScript: WORKER_CHILD_SCRIPT,
    mode,
    size: CONCURRENCY,
    spares: mode === 'per-job' ? 1 : undefined,
    jobTimeoutMs: 30_000,
    stdio: 'ignore',
    sandbox,
    maxStarting: 1,
    onEvent: (e) => {
      if (e.type === 'ready') onReady?.(e.startMs);
    },
  });
}

/** Closed loop: CONCURRENCY clients each run a job and wait for it, for DURATION_MS. Jobs per second. */
async function throughput(pool: ChildPool, input: SandboxTaskInput): Promise<number> {
  let jobs = 0;
  const end = performance.now() + DURATION_MS;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const out = await pool.run<SandboxTaskInput, SandboxTaskOutput>('operation', input);
        if (out.outcome !== 'succeeded') throw new Error(`operation ${out.outcome}: ${out.code}`);
        jobs++;
      }
    }),
  );
  return jobs / (DURATION_MS / 1000);
}

async function main(): Promise<void> {
  const spec = sandboxSpec();
  const input = operationInput();
  console.log(
    `sandbox level on this host: ${spec.level}${spec.probe.details.length ? ` (${spec.probe.details.join('; ')})` : ''}`,
  );
  console.log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (a shared host: figures are inflated)`,
  );

  // 1. Pooled throughput, alternating.
  const unconfined = newPool('pooled', undefined);
  const sandboxed = newPool('pooled', spec);
  await Promise.all([unconfined.ready(), sandboxed.ready()]);
  // One job each first: lazy paths (the first seal, the first parse) off the measured rounds.
  await unconfined.run('operation', input);
  await sandboxed.run('operation', input);
  const rates = { unconfined: [] as number[], sandboxed: [] as number[] };
  for (let round = 1; round <= ROUNDS; round++) {
    // Which goes first alternates by round.
    let a: number;
    let b: number;
    if (round % 2) {
      a = await throughput(unconfined, input);
      b = await throughput(sandboxed, input);
    } else {
      b = await throughput(sandboxed, input);
      a = await throughput(unconfined, input);
    }
    rates.unconfined.push(a);
    rates.sandboxed.push(b);
    console.log(
      `round ${round}: unconfined ${a.toFixed(1)} ops/s, sandboxed ${b.toFixed(1)} ops/s (${((b / a) * 100).toFixed(0)}%)`,
    );
  }
  await Promise.all([unconfined.close(), sandboxed.close()]);
  const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
  const ratio = sum(rates.sandboxed) / sum(rates.unconfined);
  console.log(
    `pooled stats over 1 KiB, c=${CONCURRENCY}: unconfined ${(sum(rates.unconfined) / ROUNDS).toFixed(1)} ops/s, sandboxed ${(sum(rates.sandboxed) / ROUNDS).toFixed(1)} ops/s → ${(ratio * 100).toFixed(0)}% (goal ≥ 70%)`,
  );

  // 2. Per-job: start (spawn → ready) and one operation per fresh child, sandboxed and not, alternating.
  const starts = { unconfined: [] as number[], sandboxed: [] as number[] };
  const jobsMs = { unconfined: [] as number[], sandboxed: [] as number[] };
  const perJob = {
    unconfined: newPool('per-job', undefined, (ms) => starts.unconfined.push(ms)),
    sandboxed: newPool('per-job', spec, (ms) => starts.sandboxed.push(ms)),
  };
  await Promise.all([perJob.unconfined.ready(), perJob.sandboxed.ready()]);
  for (let i = 0; i < STARTS; i++) {
    const variants = ['unconfined', 'sandboxed'] as const;
    for (const variant of i % 2 ? [...variants].reverse() : variants) {
      await perJob[variant].ready();
      const start = performance.now();
      await perJob[variant].run('operation', input);
      jobsMs[variant].push(performance.now() - start);
    }
  }
  await Promise.all([perJob.unconfined.close(), perJob.sandboxed.close()]);
  for (const variant of ['unconfined', 'sandboxed'] as const) {
    console.log(
      `per-job ${variant}: start p50 ${percentile(starts[variant], 50).toFixed(0)} ms p90 ${percentile(starts[variant], 90).toFixed(0)} ms (n=${starts[variant].length}); first job in a fresh child (loads the engine) p50 ${percentile(jobsMs[variant], 50).toFixed(0)} ms`,
    );
  }
  console.log(
    `per-job sandbox start p50 goal ≤ 150 ms; load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
