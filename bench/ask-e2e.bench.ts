/*
 * `ask` over an indexed 10,000-record file, end to end: the app's `POST /v1/operations` with `Prefer: wait`
 * answered with the result (gateway pre-check, record, queue, worker claim and load, the chain check, the child
 * opening the stored index, ranking and quoting, sealing, the receipt, the end event). The baseline, in the same
 * run and alternating with it one request at a time, is the same request for `stats` over a 1 KiB file: the
 * pipeline's own floor, so the difference is what asking costs. Gateway and worker run in this process (pooled
 * isolation), on a fresh database and dev chain. Prints figures; not a test.
 *
 *   node dist/bench/ask-e2e.bench.js [--requests=40] [--records=10000]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { FileIndexRepository } from '@hearth/db';
import { type RunningGateway, type RunningWorker, startGateway, startWorker } from '../test/support/apps';
import { type App, grant, json, newApp, newTenant, relayerFor, uploadText } from '../test/support/flow';
import { bearer } from '../test/support/siwe';
import { numberArg } from './lib/args';
import { median } from './lib/load';
import { NOTE_1KIB, startBenchStack, WORKER_STEPS } from './lib/stack';
import { CORPUS, syntheticChat } from './lib/synthetic-chat';

const REQUESTS = numberArg('requests', 40);
const RECORDS = numberArg('records', 10_000);
const WARMUP = 5;

interface Timed {
  ms: number;
  steps: Record<string, number>;
  retrieval: string | undefined;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function run(
  gw: RunningGateway,
  app: App,
  body: { operation: string; fileIds: string[]; parameters: Record<string, unknown>; grantId: string },
): Promise<Timed> {
  const t0 = performance.now();
  const res = await fetch(`${gw.url}/v1/operations`, {
    method: 'POST',
    headers: { ...bearer(app.key), 'content-type': 'application/json', Prefer: 'wait=60' },
    body: JSON.stringify(body),
  });
  const view = await json<{
    status: string;
    error?: { code: string };
    result?: { retrieval?: string };
    timings?: Record<string, number>;
  }>(res);
  const ms = performance.now() - t0;
  if (view.status !== 'succeeded')
    throw new Error(`${body.operation} ended ${view.status} ${view.error?.code ?? ''}`);
  return { ms, steps: view.timings ?? {}, retrieval: view.result?.retrieval };
}

async function indexed(worker: RunningWorker, serverId: string, fileId: string): Promise<number> {
  const indexes = worker.app.get(FileIndexRepository);
  const deadline = Date.now() + 300_000;
  for (;;) {
    const s = await indexes.status(serverId, fileId);
    if (s?.status === 'ready') return s.records;
    if (s?.status === 'failed') throw new Error(`indexing failed: ${s.errorCode}`);
    if (Date.now() > deadline) throw new Error('the file was not indexed within 300 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

function line(name: string, xs: Timed[]): string {
  const ms = xs.map((x) => x.ms);
  const steps = WORKER_STEPS.map((step) => {
    const values = xs.map((x) => x.steps[step]).filter((v): v is number => typeof v === 'number');
    return `${step.replace(/Ms$/, '')} ${values.length ? median(values).toFixed(1) : '-'}`;
  });
  return (
    `  ${name.padEnd(34)} p50 ${median(ms).toFixed(1).padStart(6)} ms  p90 ${percentile(ms, 90).toFixed(1).padStart(6)} ms\n` +
    `  ${''.padEnd(34)} worker steps, p50 ms: ${steps.join(', ')}`
  );
}

async function main(): Promise<void> {
  console.log(
    `ask end to end: ${REQUESTS} requests each (after ${WARMUP} warm-up), one at a time, ask and stats alternating; ` +
      `load average at start ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  const stack = await startBenchStack('ask');
  let gw: RunningGateway | undefined;
  let worker: RunningWorker | undefined;
  try {
    const { overrides } = stack;
    gw = await startGateway(overrides);
    worker = await startWorker(overrides);
    const tenant = await newTenant(gw.url);
    const chat = syntheticChat(RECORDS);
    const indexStart = performance.now();
    const chatId = await uploadText(gw.url, tenant, 'whatsapp-chat.txt', chat);
    const records = await indexed(worker, tenant.serverId, chatId);
    console.log(
      `indexed ${records} records (${(Buffer.byteLength(chat) / 2 ** 20).toFixed(2)} MiB of text) in ` +
        `${((performance.now() - indexStart) / 1000).toFixed(1)} s, upload included`,
    );
    const noteId = await uploadText(gw.url, tenant, 'note.txt', NOTE_1KIB);
    const app = await newApp(gw.url, tenant, { ratePerMinute: 1_000_000 });
    const relayer = relayerFor(gw.config);
    const askGrant = await grant(relayer, tenant, app.account.address, ['ask'], [chatId]);
    const statsGrant = await grant(relayer, tenant, app.account.address, ['stats'], [noteId]);
    const { questions } = JSON.parse(readFileSync(join(CORPUS, 'questions.json'), 'utf8')) as {
      questions: Array<{ q: string }>;
    };
    const ask = (i: number) =>
      run(gw!, app, {
        operation: 'ask',
        fileIds: [chatId],
        parameters: { question: questions[i % questions.length].q },
        grantId: askGrant,
      });
    const stats = () =>
      run(gw!, app, { operation: 'stats', fileIds: [noteId], parameters: {}, grantId: statsGrant });
    for (let i = 0; i < WARMUP; i++) {
      await ask(i);
      await stats();
    }
    const asks: Timed[] = [];
    const floor: Timed[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      // Which goes first alternates, so neither always follows the other.
      if (i % 2 === 0) {
        asks.push(await ask(i));
        floor.push(await stats());
      } else {
        floor.push(await stats());
        asks.push(await ask(i));
      }
    }
    const retrieval = [...new Set(asks.map((a) => a.retrieval ?? '?'))].join(', ');
    console.log(
      `\nPOST /v1/operations with Prefer: wait, answered with the result (retrieval: ${retrieval}):`,
    );
    console.log(line(`ask, indexed ${records}-record file`, asks));
    console.log(line('stats, 1 KiB file (the floor)', floor));
    console.log(
      `  ask − floor at p50: ${(median(asks.map((a) => a.ms)) - median(floor.map((f) => f.ms))).toFixed(1)} ms` +
        `; goal: ask p50 ≤ 100 ms end to end`,
    );
    console.log(
      `load average at end ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await worker?.close().catch(() => undefined);
    await gw?.close().catch(() => undefined);
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
