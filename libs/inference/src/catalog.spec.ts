import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { listCatalog, validateOperationRequest } from './catalog';
import { InferenceError } from './errors';
import { runOperation } from './run';

const openai = {
  baseUrl: 'http://vllm.internal:8000/v1',
  model: 'm',
  trustedBaseUrls: ['http://vllm.internal:8000/v1'],
};

describe('catalog', () => {
  it('lists builtin and aggregate operations with versions, schemas and limits', () => {
    const cat = listCatalog({});
    assert.deepEqual(
      cat.map((o) => [o.name, o.engine, o.aggregate]),
      [
        ['summarize', 'builtin', false],
        ['ask', 'builtin', false],
        ['timeline', 'builtin', false],
        ['entities', 'builtin', false],
        ['keywords', 'builtin', false],
        ['sentiment', 'builtin', false],
        ['stats', 'builtin', false],
        ['counts', 'builtin', true],
        ['sentiment_distribution', 'builtin', true],
        ['top_keywords', 'builtin', true],
        ['topic_frequencies', 'builtin', true],
      ],
    );
    for (const o of cat) {
      assert.match(o.version, /^\d+\.\d+\.\d+$/);
      assert.ok(o.description.length > 20);
      assert.ok(o.limits.maxInputBytes > 0 && o.limits.maxOutputBytes > 0 && o.limits.maxDocuments > 0);
      assert.match(o.codeHash, /^0x[0-9a-f]{64}$/);
      assert.ok(o.discloses.length > 10, `${o.name} says what it discloses`);
    }
    assert.match(
      cat.find((o) => o.name === 'ask')!.discloses,
      /passages of ≤ `quoteChars` \(at most 300\) characters/,
    );
    const summarize = cat.find((o) => o.name === 'summarize')!.paramsSchema as {
      properties: { sentences: { type: string; minimum: number; maximum: number; default: number } };
      additionalProperties: boolean;
    };
    assert.deepEqual(
      { ...summarize.properties.sentences, description: undefined },
      { type: 'integer', minimum: 1, maximum: 20, default: 3, description: undefined },
    );
    assert.equal(summarize.additionalProperties, false);
    const ask = cat.find((o) => o.name === 'ask')!.paramsSchema as { required: string[] };
    assert.deepEqual(ask.required, ['question']);
    assert.equal(new Set(cat.map((o) => o.codeHash)).size, cat.length, 'code hashes differ per operation');
  });

  it('offers prompt only with an OpenAI-compatible server, local_prompt only with a model path', () => {
    assert.ok(!listCatalog({}).some((o) => o.name === 'prompt' || o.name === 'local_prompt'));
    const withOpenai = listCatalog({ openai });
    assert.equal(withOpenai.find((o) => o.name === 'prompt')?.engine, 'openai');
    assert.equal(withOpenai.find((o) => o.name === 'prompt')?.model, 'm');
    const withLlama = listCatalog({ llama: { modelPath: '/models/qwen2.5-0.5b-instruct-q4_k_m.gguf' } });
    const local = withLlama.find((o) => o.name === 'local_prompt');
    assert.equal(local?.engine, 'llama');
    assert.equal(local?.model, 'qwen2.5-0.5b-instruct-q4_k_m.gguf');
    assert.ok(!listCatalog({ llama: { modelPath: '' } }).some((o) => o.name === 'local_prompt'));
  });

  it('codeHash changes with the model', () => {
    const a = listCatalog({ openai }).find((o) => o.name === 'prompt')!.codeHash;
    const b = listCatalog({ openai: { ...openai, model: 'other' } }).find(
      (o) => o.name === 'prompt',
    )!.codeHash;
    assert.notEqual(a, b);
  });
});

describe('validateOperationRequest', () => {
  it('accepts valid parameters and fills defaults', () => {
    const v = validateOperationRequest({}, 'summarize', undefined);
    assert.ok(v.ok);
    assert.deepEqual(v.params, { sentences: 3, by: 'source', groups: 10 });
    assert.equal(v.operation.name, 'summarize');
  });

  it('names the field of each error', () => {
    const cases: [string, unknown, string, string][] = [
      ['summarize', { sentences: 0 }, 'parameters.sentences', 'too_small'],
      ['summarize', { sentences: 21 }, 'parameters.sentences', 'too_big'],
      ['summarize', { sentences: 2.5 }, 'parameters.sentences', 'invalid_type'],
      ['summarize', { sentences: 'three' }, 'parameters.sentences', 'invalid_type'],
      ['summarize', { sentence: 3 }, 'parameters.sentence', 'unknown_field'],
      ['ask', {}, 'parameters.question', 'required'],
      ['ask', { question: '   ' }, 'parameters.question', 'too_small'],
      ['summarize', { by: 'week' }, 'parameters.by', 'invalid_value'],
      ['ask', { question: 'q', quotes: 11 }, 'parameters.quotes', 'too_big'],
      ['ask', { question: 'q', quoteChars: 301 }, 'parameters.quoteChars', 'too_big'],
      ['timeline', { limit: 201 }, 'parameters.limit', 'too_big'],
      ['summarize', 'x', 'parameters', 'invalid_type'],
    ];
    for (const [op, params, field, code] of cases) {
      const v = validateOperationRequest({}, op, params);
      assert.ok(!v.ok, `${op} ${JSON.stringify(params)}`);
      assert.deepEqual(
        v.errors.map((e) => [e.field, e.code]),
        [[field, code]],
        `${op} ${JSON.stringify(params)}`,
      );
      assert.ok(v.errors[0].message.length > 0);
    }
    const prompt = validateOperationRequest({ openai }, 'prompt', { template: 'Summarise this.' });
    assert.ok(!prompt.ok);
    assert.deepEqual(prompt.errors[0]?.field, 'parameters.template');
    assert.match(prompt.errors[0].message, /\{\{data\}\}/);
  });

  it('refuses unknown and unconfigured operations on the operation field', async () => {
    for (const [opts, name] of [
      [{}, 'translate'],
      [{}, 'prompt'],
      [{}, 'local_prompt'],
    ] as const) {
      const v = validateOperationRequest(opts, name, {});
      assert.ok(!v.ok);
      assert.deepEqual(
        v.errors.map((e) => [e.field, e.code]),
        [['operation', 'unknown_operation']],
      );
    }
    await assert.rejects(
      runOperation({}, 'summarize', { sentences: 0 }, []),
      (e: unknown) =>
        e instanceof InferenceError &&
        e.code === 'invalid_parameters' &&
        e.fieldErrors?.[0]?.field === 'parameters.sentences',
    );
    await assert.rejects(
      runOperation({}, 'prompt', {}, []),
      (e: unknown) => e instanceof InferenceError && e.code === 'unknown_operation',
    );
  });
});
