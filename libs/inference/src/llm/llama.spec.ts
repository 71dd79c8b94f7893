import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listCatalog } from '../catalog';
import { InferenceError } from '../errors';
import { journalMoving } from '../fixtures/texts';
import { runOperation } from '../run';
import { ContextQueue } from './llama';
import { tinyGguf } from './testing/tiny-gguf';
import type { InputDocument } from '../types';

const docs: InputDocument[] = [
  { fileId: 'fil_m', name: 'moving.txt', contentType: 'text/plain', text: journalMoving },
];

/**
 * A stand-in for node-llama-cpp's v3 API (ESM, like the real package) that records calls, so the
 * engine's wiring is tested without weights. Real inference is not tested here.
 */
const FAKE_MODULE = `
export const calls = [];
export async function getLlama(options) {
  calls.push(['getLlama', options]);
  return {
    async loadModel(o) {
      calls.push(['loadModel', o.modelPath]);
      return {
        async createContext(c) {
          calls.push(['createContext', c.contextSize, c.threads]);
          return { getSequence: () => ({}), async dispose() { calls.push(['disposeContext']); } };
        },
      };
    },
    async createGrammarForJsonSchema(schema) { calls.push(['grammar', schema]); return { schema }; },
  };
}
export class LlamaChatSession {
  constructor(o) { this.system = o.systemPrompt; calls.push(['session', o.systemPrompt ?? null]); }
  async prompt(text, o) {
    calls.push(['prompt', text.length, o.maxTokens, o.temperature, o.grammar !== undefined]);
    if (o.grammar) return JSON.stringify({ chars: text.length });
    return 'local answer ' + text.length;
  }
  dispose() { calls.push(['disposeSession']); }
}
`;

describe('llama engine', () => {
  let dir: string;
  let modelPath: string;
  let badModelPath: string;
  let fakeModule: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-llama-'));
    modelPath = join(dir, 'tiny.gguf');
    // A header the engine accepts (the fake module loads no weights).
    await writeFile(modelPath, tinyGguf());
    badModelPath = join(dir, 'bad.gguf');
    await writeFile(badModelPath, 'GGUF not really');
    fakeModule = join(dir, 'fake-llama.mjs');
    await writeFile(fakeModule, FAKE_MODULE);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is absent from the catalog without a model path, present with one', () => {
    assert.ok(!listCatalog({}).some((o) => o.engine === 'llama'));
    assert.deepEqual(
      listCatalog({ llama: { modelPath } })
        .filter((o) => o.engine === 'llama')
        .map((o) => [o.name, o.model]),
      [
        ['local_prompt', 'tiny.gguf'],
        ['llm_summarize', 'tiny.gguf'],
        ['llm_ask', 'tiny.gguf'],
      ],
    );
  });

  it('puts the LLM operations on the engine configured for them, llama first, one implementation each', () => {
    const openai = {
      baseUrl: 'http://models.test/v1',
      model: 'm',
      trustedBaseUrls: ['http://models.test/v1'],
    };
    const engines = (opts: Parameters<typeof listCatalog>[0]) =>
      listCatalog(opts)
        .filter((o) => o.name.startsWith('llm_'))
        .map((o) => `${o.name}:${o.engine}`);
    assert.deepEqual(engines({}), []);
    assert.deepEqual(engines({ openai }), ['llm_summarize:openai', 'llm_ask:openai']);
    assert.deepEqual(engines({ openai, llama: { modelPath } }), ['llm_summarize:llama', 'llm_ask:llama']);
    assert.deepEqual(engines({ openai, llama: { modelPath }, llmEngine: 'openai' }), [
      'llm_summarize:openai',
      'llm_ask:openai',
    ]);
    // Named but not configured: nothing is offered rather than another engine.
    assert.deepEqual(engines({ openai, llmEngine: 'llama' }), []);
  });

  it('queues contexts: one at a time in arrival order, a waiting call aborted leaves the queue', async () => {
    const queue = new ContextQueue();
    const order: string[] = [];
    const first = await queue.acquire();
    const second = queue.acquire().then((release) => {
      order.push('second');
      return release;
    });
    const controller = new AbortController();
    const third = queue.acquire(controller.signal);
    const fourth = queue.acquire().then((release) => {
      order.push('fourth');
      return release;
    });
    assert.equal(queue.queued, 3);
    controller.abort();
    await assert.rejects(third);
    assert.equal(queue.queued, 2);
    order.push('first done');
    first();
    (await second)();
    (await fourth)();
    assert.deepEqual(order, ['first done', 'second', 'fourth']);
    assert.equal(queue.queued, 0);
    // Free again: the next caller gets it at once.
    (await queue.acquire())();
  });

  it('fails clearly when the model file is missing', async () => {
    await assert.rejects(
      runOperation(
        { llama: { modelPath: join(dir, 'missing.gguf') } },
        'local_prompt',
        { template: '{{data}}' },
        docs,
      ),
      (e: unknown) =>
        e instanceof InferenceError &&
        e.code === 'engine_unavailable' &&
        !e.retryable &&
        /missing\.gguf does not exist/.test(e.message),
    );
  });

  it('refuses a file that is not a GGUF model before the engine sees it', async () => {
    await assert.rejects(
      runOperation({ llama: { modelPath: badModelPath } }, 'local_prompt', { template: '{{data}}' }, docs),
      (e: unknown) =>
        e instanceof InferenceError &&
        e.code === 'engine_unavailable' &&
        /bad\.gguf is not a readable GGUF model/.test(e.message),
    );
  });

  it('fails clearly when node-llama-cpp is not installed', async () => {
    const absent = join(dir, 'not-installed', 'index.mjs');
    await assert.rejects(
      runOperation({ llama: { modelPath, module: absent } }, 'local_prompt', { template: '{{data}}' }, docs),
      (e: unknown) =>
        e instanceof InferenceError &&
        e.code === 'engine_unavailable' &&
        e.status === 503 &&
        /needs the node-llama-cpp package, which is not installed/.test(e.message),
    );
  });

  it('drives the node-llama-cpp API: no build at run time, one model load, a context per call, JSON grammar', async () => {
    const opts = { llama: { modelPath, module: fakeModule, contextSize: 2048, threads: 1 } };
    const text = await runOperation(
      opts,
      'local_prompt',
      { template: 'Summarise:\n{{data}}', system: 'Be brief.' },
      docs,
    );
    assert.match((text.output as { text: string }).text, /^local answer \d+$/);
    assert.equal(text.engine, 'llama');
    assert.equal(text.model, 'tiny.gguf');
    const json = await runOperation(
      opts,
      'local_prompt',
      { template: '{{data}}', jsonSchema: { type: 'object', properties: { chars: { type: 'integer' } } } },
      docs,
    );
    assert.equal(typeof (json.output as { json: { chars: number } }).json.chars, 'number');

    const mod = (await import(fakeModule)) as { calls: unknown[][] };
    const names = mod.calls.map((c) => c[0]);
    assert.deepEqual(mod.calls[0], [
      'getLlama',
      { build: 'never', gpu: false, progressLogs: false, maxThreads: 1, logLevel: 'error' },
    ]);
    assert.deepEqual(
      mod.calls.find((c) => c[0] === 'createContext'),
      ['createContext', 2048, 1],
    );
    assert.equal(names.filter((n) => n === 'loadModel').length, 1, 'the model is loaded once per process');
    assert.equal(names.filter((n) => n === 'createContext').length, 2);
    assert.equal(names.filter((n) => n === 'disposeContext').length, 2, 'every context is disposed');
    assert.deepEqual(
      mod.calls.find((c) => c[0] === 'session'),
      ['session', 'Be brief.'],
    );
    assert.deepEqual(
      mod.calls.find((c) => c[0] === 'grammar'),
      ['grammar', { type: 'object', properties: { chars: { type: 'integer' } } }],
    );
  });

  it('never holds two contexts at once, even when a long input is mapped over in parallel parts', async () => {
    const opts = { llama: { modelPath, module: fakeModule, contextSize: 2048, contextChars: 600 } };
    const mod = (await import(fakeModule)) as { calls: unknown[][] };
    mod.calls.length = 0;
    const long: InputDocument[] = [
      { fileId: 'fil_l', name: 'long.txt', contentType: 'text/plain', text: journalMoving.repeat(6) },
    ];
    const out = await runOperation(opts, 'local_prompt', { template: '{{data}}' }, long);
    assert.ok((out.output as { chunks: number }).chunks > 2);
    const lifecycle = mod.calls
      .map((c) => c[0])
      .filter((n) => n === 'createContext' || n === 'disposeContext');
    assert.ok(lifecycle.length >= 6);
    lifecycle.forEach((n, i) =>
      assert.equal(n, i % 2 === 0 ? 'createContext' : 'disposeContext', `step ${i}`),
    );
  });
});
