/*
 * The real llama engine (node-llama-cpp's CPU prebuilt) on a tiny random-weight GGUF written here, at test
 * time: load, chat, JSON-schema grammar, timeout, abort, one context at a time, and the LLM operations.
 * No weights are committed or downloaded. test:slow (loads llama.cpp; starts first).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { listCatalog } from '../catalog';
import { isInferenceError } from '../errors';
import { journalMoving } from '../fixtures/texts';
import { runOperation } from '../run';
import type { InputDocument, LlamaEngineOptions } from '../types';
import { llamaResidentEstimateMb, LLAMA_RUNTIME_MB, readGgufHeader } from './gguf';
import { llamaCompleter } from './llama';
import { LLM_QUOTE_CHARS } from './operations';
import { TINY_MODEL, tinyVocabulary, writeTinyGguf } from './testing/tiny-gguf';

const MiB = 1024 * 1024;

const SCHEMA = {
  type: 'object',
  properties: {
    mood: { enum: ['good', 'bad', 'mixed'] },
    moved: { type: 'boolean' },
    word: { type: 'string', maxLength: 8 },
    tags: { type: 'array', items: { enum: ['home', 'work', 'family'] }, maxItems: 2 },
  },
  required: ['mood', 'moved', 'word', 'tags'],
  additionalProperties: false,
};

const docs: InputDocument[] = [
  { fileId: 'fil_journal', name: 'secret-journal-name.txt', contentType: 'text/plain', text: journalMoving },
];

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(isInferenceError(e), String(e));
    return e.code;
  }
  assert.fail('expected the call to fail');
}

describe('llama engine on a tiny generated GGUF (real node-llama-cpp)', () => {
  let dir: string;
  let modelPath: string;
  let fileBytes: number;
  let o: LlamaEngineOptions;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-tiny-gguf-'));
    modelPath = join(dir, 'tiny.gguf');
    fileBytes = await writeTinyGguf(modelPath);
    o = { modelPath, contextSize: 1024, threads: 1, contextChars: 700, timeoutMs: 60_000 };
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a GGUF v3 whose header has the llama hyperparameters, and sizes a child for it', () => {
    const h = readGgufHeader(modelPath);
    assert.equal(h.version, 3);
    assert.equal(h.tensorCount, 3 + TINY_MODEL.layers * 9);
    assert.equal(h.metadata.get('general.architecture'), 'llama');
    assert.equal(h.metadata.get('llama.block_count'), TINY_MODEL.layers);
    assert.equal(h.metadata.get('llama.embedding_length'), TINY_MODEL.embedding);
    assert.equal(h.metadata.get('tokenizer.ggml.tokens'), tinyVocabulary().tokens.length);
    assert.equal(h.fileBytes, fileBytes);
    // Weights + f16 KV cache of 2 layers × 512 tokens × 64 + one batch of logits, and the runtime.
    const kv = 2 * TINY_MODEL.layers * 512 * TINY_MODEL.embedding * 2;
    const logits = 4 * tinyVocabulary().tokens.length * 512;
    assert.equal(
      llamaResidentEstimateMb(modelPath, 512),
      Math.ceil((fileBytes + kv + logits) / MiB) + LLAMA_RUNTIME_MB,
    );
    // A context larger than the model was trained for is counted at the trained size.
    assert.equal(
      llamaResidentEstimateMb(modelPath, 1 << 20),
      llamaResidentEstimateMb(modelPath, TINY_MODEL.contextLength),
    );
  });

  it('loads the model and completes a chat, the same text for the same prompt at temperature 0', async () => {
    const complete = llamaCompleter(o);
    const first = await complete({ user: 'Write a word.', maxTokens: 12, temperature: 0 });
    const again = await complete({ user: 'Write a word.', maxTokens: 12, temperature: 0 });
    assert.equal(typeof first.content, 'string');
    assert.ok(first.content.length > 0);
    // A fresh context per call: nothing of the first call changes the second.
    assert.equal(again.content, first.content);
  });

  it('constrains the output to a JSON Schema: it parses and validates', async () => {
    const complete = llamaCompleter(o);
    const { content } = await complete({
      system: 'Answer in JSON.',
      user: 'How was the day?',
      jsonSchema: SCHEMA,
      maxTokens: 200,
      temperature: 0,
    });
    const parsed: unknown = JSON.parse(content);
    const validate = new Ajv().compile(SCHEMA);
    assert.ok(validate(parsed), `${content}: ${JSON.stringify(validate.errors)}`);
  });

  it('runs one context at a time: concurrent calls all finish, each with the answer it gets alone', async () => {
    const complete = llamaCompleter(o);
    const alone = await complete({ user: 'One.', maxTokens: 8, temperature: 0 });
    const together = await Promise.all(
      [1, 2, 3].map(() => complete({ user: 'One.', maxTokens: 8, temperature: 0 })),
    );
    assert.deepEqual(
      together.map((c) => c.content),
      [alone.content, alone.content, alone.content],
    );
  });

  it('fails a completion past its timeout with `timeout`, and an aborted one with `aborted`', async () => {
    const slow = llamaCompleter({ ...o, timeoutMs: 300 });
    const started = Date.now();
    assert.equal(await code(slow({ user: 'Go on.', maxTokens: 20_000, temperature: 0 })), 'timeout');
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);

    const controller = new AbortController();
    const complete = llamaCompleter(o);
    const running = complete({
      user: 'Go on.',
      maxTokens: 20_000,
      temperature: 0,
      signal: controller.signal,
    });
    // The trigger, not a synchronisation: the call must stop whenever the abort comes.
    setTimeout(() => controller.abort(), 200);
    assert.equal(await code(running), 'aborted');
    // The engine still answers afterwards (the context was released).
    assert.ok((await complete({ user: 'Again.', maxTokens: 4, temperature: 0 })).content.length >= 0);
  });

  it('offers llm_summarize and llm_ask on the llama engine, and runs them', async () => {
    const opts = { llama: o };
    const names = listCatalog(opts)
      .filter((d) => d.engine === 'llama')
      .map((d) => d.name)
      .sort();
    assert.deepEqual(names, ['llm_ask', 'llm_summarize', 'local_prompt']);

    const summary = await runOperation(opts, 'llm_summarize', { maxWords: 15 }, docs);
    const s = summary.output as { summary: string; chunks: number };
    assert.equal(summary.engine, 'llama');
    assert.equal(summary.model, 'tiny.gguf');
    assert.ok(s.summary.split(/\s+/).filter(Boolean).length <= 15);
    assert.ok(s.chunks >= 1);

    const asked = await runOperation(
      opts,
      'llm_ask',
      { question: 'Where did I move?', maxCitations: 2, maxAnswerChars: 40 },
      docs,
    );
    const a = asked.output as {
      answer: string;
      citations: Array<{ id: string; fileId: string; quote: string }>;
      quotedCharacters: number;
      passagesShown: number;
    };
    assert.ok(typeof a.answer === 'string' && a.answer.length <= 40);
    assert.ok(a.passagesShown >= 1);
    assert.ok(a.citations.length <= 2);
    for (const c of a.citations) {
      assert.match(c.id, /^fil_journal#\d+$/);
      assert.ok(c.quote.length <= LLM_QUOTE_CHARS && journalMoving.includes(c.quote));
    }
    assert.equal(
      a.quotedCharacters,
      a.citations.reduce((n, c) => n + c.quote.length, 0),
    );
    assert.ok(!JSON.stringify(asked.output).includes('secret-journal-name'));
  });
});
