/**
 * Builtin inference throughput. Prints figures; not a test. The machine is shared and noisy, so
 * every figure is also given as a ratio to baselines measured in the same run over the same bytes:
 * wink-nlp tokenisation (the floor of every builtin operation) and a plain regex split.
 *
 *   npx swc libs test bench -d dist --copy-files && node dist/bench/inference.bench.js
 */
import { performance } from 'node:perf_hooks';
import winkNLP from 'wink-nlp';
import model from 'wink-eng-lite-web-model';
import { runOperation, type InputDocument } from '@hearth/inference';
import { Bm25Index } from '../libs/inference/src/builtin/bm25';
import { indexTerms, splitPassages } from '../libs/inference/src/builtin/operations';
import { getNlp, readSentences } from '../libs/inference/src/builtin/nlp';
import { prepareDocuments } from '../libs/inference/src/text';

/** mulberry32: a tiny seeded PRNG, so every run measures the same text. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PEOPLE = [
  'Maya',
  'Jonas',
  'Emma',
  'Dr. Patel',
  'Priya',
  'my sister',
  'Grandma',
  'Sam',
  'the landlord',
  'my manager',
];
const PLACES = [
  'the market',
  'the office',
  'Lake Serene',
  'the gym',
  'the library',
  'the dentist',
  'the park',
  'the station',
];
const TIMES = [
  'this morning',
  'after lunch',
  'on Tuesday',
  'at 3:30 pm',
  'last night',
  'on March 12',
  'before work',
];
const THINGS = [
  'the budget',
  'the rent',
  'the project deadline',
  'a new recipe',
  'the garden',
  'my knee',
  'the website redesign',
  'a novel about a lighthouse',
];
const FEELINGS = ['happy', 'exhausted', 'anxious', 'grateful', 'frustrated', 'calm', 'hopeful', 'miserable'];
const TEMPLATES: ((r: () => number) => string)[] = [
  (r) =>
    `I met ${pick(r, PEOPLE)} at ${pick(r, PLACES)} ${pick(r, TIMES)} and we talked about ${pick(r, THINGS)}.`,
  (r) => `Honestly I felt ${pick(r, FEELINGS)} about ${pick(r, THINGS)} all day.`,
  (r) =>
    `${cap(pick(r, PEOPLE))} called ${pick(r, TIMES)} to say that ${pick(r, THINGS)} would cost $${10 + Math.floor(r() * 990)}.`,
  (r) =>
    `We walked to ${pick(r, PLACES)} ${pick(r, TIMES)}, and the weather was ${pick(r, ['lovely', 'grey', 'freezing', 'perfect'])}.`,
  (r) =>
    `I still need to sort out ${pick(r, THINGS)} before ${pick(r, ['Friday', 'the weekend', 'May 3', 'the end of the month'])}.`,
  (r) =>
    `The appointment with ${pick(r, PEOPLE)} went ${pick(r, ['well', 'badly', 'better than expected', 'on for hours'])}.`,
  (r) =>
    `I slept ${pick(r, ['badly', 'well', 'for nine hours', 'only four hours'])} and woke up feeling ${pick(r, FEELINGS)}.`,
];
function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}
function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function paragraph(r: () => number): string {
  const n = 3 + Math.floor(r() * 4);
  return Array.from({ length: n }, () => pick(r, TEMPLATES)(r)).join(' ');
}

/** A journal of dated entries, of about `bytes` bytes. */
function journal(bytes: number, seed = 42): string {
  const r = rng(seed);
  const parts: string[] = [];
  let size = 0;
  for (let day = 1; size < bytes; day++) {
    const entry = `Day ${day}\n\n${Array.from({ length: 2 + Math.floor(r() * 3) }, () => paragraph(r)).join('\n\n')}`;
    parts.push(entry);
    size += Buffer.byteLength(entry) + 2;
  }
  return parts.join('\n\n');
}

function time<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const out = fn();
  return [out, performance.now() - t];
}
async function timeAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const out = await fn();
  return [out, performance.now() - t];
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const kibps = (bytes: number, ms: number): number => bytes / 1024 / (ms / 1000);
const fmt = (x: number, d = 0): string => x.toFixed(d).padStart(9);

async function main(): Promise<void> {
  const REPS = 3;
  const text = journal(1024 * 1024);
  const bytes = Buffer.byteLength(text);
  console.log(
    `inference bench: generated journal ${(bytes / 1024).toFixed(0)} KiB, ${REPS} runs each, median`,
  );
  console.log(`node ${process.version}, ${new Date().toISOString()}`);

  // Model load, once per process, as in a warm job runner.
  const [, loadMs] = await timeAsync(() => getNlp());
  console.log(`wink model load: ${loadMs.toFixed(0)} ms (first use only)\n`);

  const nlp = winkNLP(model);
  const wink = median(Array.from({ length: REPS }, () => time(() => nlp.readDoc(text).tokens().length())[1]));
  const regex = median(
    Array.from({ length: REPS }, () => time(() => text.toLowerCase().split(/[^\p{L}\p{N}]+/u).length)[1]),
  );
  const base = kibps(bytes, wink);
  console.log('baselines                      KiB/s   vs wink');
  console.log(`  wink tokenise            ${fmt(base)}   ${fmt(1, 2)}`);
  console.log(
    `  regex split              ${fmt(kibps(bytes, regex))}   ${fmt(kibps(bytes, regex) / base, 2)}`,
  );

  const doc: InputDocument[] = [
    { fileId: 'fil_bench', name: 'journal.txt', contentType: 'text/plain', text },
  ];
  const ops: [string, Record<string, unknown>][] = [
    ['summarize', { sentences: 5 }],
    ['sentiment', {}],
    ['keywords', { top: 20 }],
    ['entities', {}],
    ['stats', {}],
    ['ask', { question: 'When is the appointment with Dr. Patel?' }],
  ];
  // Each run of an operation is paired with a wink tokenising run (which goes first alternates); "vs wink" is
  // the median of the per-pair ratios, so a change in the machine's load shows in both alike.
  const pairedWithWink = async (fn: () => Promise<unknown>): Promise<{ kibs: number; vsWink: number }> => {
    const runs: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < REPS; i++) {
      const winkRun = () => time(() => nlp.readDoc(text).tokens().length())[1];
      let w: number;
      let ms: number;
      if (i % 2 === 0) {
        w = winkRun();
        ms = (await timeAsync(fn))[1];
      } else {
        ms = (await timeAsync(fn))[1];
        w = winkRun();
      }
      runs.push(ms);
      ratios.push(w / ms);
    }
    return { kibs: kibps(bytes, median(runs)), vsWink: median(ratios) };
  };
  console.log('\nbuiltin operations on 1 MiB    KiB/s   vs wink');
  for (const [name, params] of ops) {
    const t = await pairedWithWink(() => runOperation({}, name, params, doc));
    console.log(`  ${name.padEnd(22)} ${fmt(t.kibs)}   ${fmt(t.vsWink, 2)}`);
  }

  // The same journal pooled by 20 contributors in 200 documents.
  const paras = text.split('\n\n');
  const pooled: InputDocument[] = Array.from({ length: 200 }, (_, i) => ({
    fileId: `fil_${i}`,
    name: `entry-${i}.txt`,
    contentType: 'text/plain',
    text: paras.filter((_, j) => j % 200 === i).join('\n\n'),
    contributor: `mem_${i % 20}`,
  }));
  console.log('\naggregate operations on 1 MiB  KiB/s   vs wink   (200 docs, 20 contributors, k=5)');
  for (const name of ['counts', 'sentiment_distribution', 'top_keywords', 'topic_frequencies']) {
    const t = await pairedWithWink(() => runOperation({}, name, {}, pooled, { k: 5 }));
    console.log(`  ${name.padEnd(22)} ${fmt(t.kibs)}   ${fmt(t.vsWink, 2)}`);
  }

  // ask over 10,000 passages (paragraphs), in 100 documents.
  const r = rng(7);
  const askDocs: InputDocument[] = Array.from({ length: 100 }, (_, d) => ({
    fileId: `fil_${d}`,
    name: `notes-${d}.txt`,
    contentType: 'text/plain',
    text: Array.from({ length: 100 }, () => paragraph(r)).join('\n\n'),
  }));
  const askBytes = askDocs.reduce((n, d) => n + Buffer.byteLength(d.text ?? ''), 0);
  const questions = Array.from({ length: 36 }, (_, i) => {
    const q = rng(1000 + i);
    return pick(q, [
      () => `When did I meet ${pick(q, PEOPLE)} at ${pick(q, PLACES)}?`,
      () => `How much did ${pick(q, THINGS)} cost?`,
      () => `Why did I feel ${pick(q, FEELINGS)}?`,
      () => `What happened with ${pick(q, THINGS)} ${pick(q, TIMES)}?`,
    ])();
  });
  const prepared = prepareDocuments(askDocs, {
    maxInputBytes: 64 * 1024 * 1024,
    maxOutputBytes: 0,
    maxDocuments: 1000,
  });
  const [passages, splitMs] = await timeAsync(() => splitPassages(prepared));
  const [index, indexMs] = time(() => new Bm25Index(passages.map((p) => p.terms)));
  const queryMs = questions.map(
    (question) =>
      time(() =>
        index.search(
          readSentences(nlp, question).flatMap((s) => indexTerms(s.tokens)),
          3,
        ),
      )[1],
  );
  console.log(`\nask on ${passages.length} passages (${(askBytes / 1024).toFixed(0)} KiB in 100 documents)`);
  console.log(
    `  passage split + analysis ${fmt(splitMs)} ms   ${fmt(kibps(askBytes, splitMs))} KiB/s   ${fmt(kibps(askBytes, splitMs) / base, 2)} vs wink`,
  );
  console.log(`  BM25 index build         ${fmt(indexMs)} ms`);
  console.log(
    `  query, ${questions.length} questions      p50 ${percentile(queryMs, 50).toFixed(2)} ms   p99 ${percentile(queryMs, 99).toFixed(2)} ms`,
  );
  const e2e: number[] = [];
  for (const question of questions.slice(0, 8)) {
    e2e.push((await timeAsync(() => runOperation({}, 'ask', { question, quotes: 3 }, askDocs)))[1]);
  }
  const winkMsForAsk = (askBytes / 1024 / base) * 1000;
  console.log(
    `  runOperation('ask'), ${e2e.length} q   p50 ${percentile(e2e, 50).toFixed(0)} ms   p99 ${percentile(e2e, 99).toFixed(0)} ms   (${(percentile(e2e, 50) / winkMsForAsk).toFixed(2)}× wink tokenising the same bytes)`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
