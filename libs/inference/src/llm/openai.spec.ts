import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeOpenAI, type FakeOpenAI } from '../../../../test/support/fake-openai';
import { InferenceError } from '../errors';
import { emailDentist, journalMoving } from '../fixtures/texts';
import { runOperation } from '../run';
import type { InferenceOptions, InputDocument } from '../types';
import { isTrustedBaseUrl } from './openai';

const docs: InputDocument[] = [
  { fileId: 'fil_dentist', name: 'dentist.eml', contentType: 'message/rfc822', text: emailDentist },
  { fileId: 'fil_moving', name: 'moving.txt', contentType: 'text/plain', text: journalMoving },
];

const isCode =
  (code: string) =>
  (e: unknown): boolean =>
    e instanceof InferenceError && e.code === code;

describe('isTrustedBaseUrl', () => {
  const trusted = ['http://vllm.internal:8000/v1', 'https://ollama.example.com'];
  it('accepts listed base URLs and paths below them', () => {
    assert.ok(isTrustedBaseUrl('http://vllm.internal:8000/v1', trusted));
    assert.ok(isTrustedBaseUrl('http://vllm.internal:8000/v1/', trusted));
    assert.ok(isTrustedBaseUrl('https://ollama.example.com/v1', trusted));
    assert.ok(isTrustedBaseUrl('https://OLLAMA.example.com:443/v1', trusted));
  });
  it('refuses other hosts, ports, schemes, sibling paths, credentials and garbage', () => {
    for (const url of [
      'http://vllm.internal:8001/v1',
      'https://vllm.internal:8000/v1',
      'http://vllm.internal:8000/v10',
      'http://vllm.internal:8000',
      'http://vllm.internal.evil.com:8000/v1',
      'http://user:pw@vllm.internal:8000/v1',
      'http://vllm.internal:8000/v1?x=1',
      'file:///etc/passwd',
      'not a url',
    ]) {
      assert.ok(!isTrustedBaseUrl(url, trusted), url);
    }
    assert.ok(!isTrustedBaseUrl('http://vllm.internal:8000/v1', []));
  });
});

describe('openai engine against a fake OpenAI-compatible server', () => {
  let fake: FakeOpenAI;
  let opts: InferenceOptions;
  before(async () => {
    fake = await startFakeOpenAI({ model: 'qwen2.5-7b-instruct', apiKey: 'sk-test' });
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    opts = {
      openai: {
        baseUrl: fake.baseUrl,
        apiKey: 'sk-test',
        model: 'qwen2.5-7b-instruct',
        trustedBaseUrls: [fake.baseUrl],
        timeoutMs: 2000,
        maxRetries: 2,
        retryBaseMs: 10,
        contextChars: 24_000,
      },
    };
  });

  it('refuses an untrusted base URL before sending anything', async () => {
    const untrusted = { openai: { ...opts.openai!, trustedBaseUrls: ['http://127.0.0.1:1/v1'] } };
    await assert.rejects(
      runOperation(untrusted, 'prompt', { template: 'Summarise: {{data}}' }, docs),
      (e: unknown) => isCode('untrusted_endpoint')(e) && (e as InferenceError).status === 403,
    );
    assert.equal(fake.requests.length, 0);
  });

  it('sends the template with the data, model and system prompt, and returns the answer', async () => {
    const r = await runOperation(
      opts,
      'prompt',
      { template: 'List the appointments in:\n{{data}}', system: 'You are terse.', maxTokens: 200 },
      docs,
    );
    assert.equal(fake.requests.length, 1);
    const req = fake.requests[0];
    assert.deepEqual(req.problems, []);
    assert.equal(req.headers.authorization, 'Bearer sk-test');
    assert.equal(req.body?.model, 'qwen2.5-7b-instruct');
    assert.equal(req.body?.max_tokens, 200);
    assert.equal(req.body?.temperature, 0);
    assert.equal(req.body?.response_format, undefined);
    const [system, user] = req.body.messages!;
    assert.deepEqual(system, { role: 'system', content: 'You are terse.' });
    assert.equal(user?.role, 'user');
    const content = String(user?.content);
    assert.ok(content.startsWith('List the appointments in:\n--- dentist.eml ---\n'));
    assert.ok(content.includes('dentist appointment with Dr. Patel'), 'data of the first file');
    assert.ok(content.includes('moved into the new apartment'), 'data of the second file');
    const out = r.output as { text: string; chunks: number; calls: number; usage: { promptTokens: number } };
    assert.match(out.text, new RegExp(`^answer sha:[0-9a-f]{8} chars:${content.length} parts:0$`));
    assert.equal(out.chunks, 1);
    assert.equal(out.calls, 1);
    assert.equal(out.usage.promptTokens, Math.ceil(content.length / 4));
    assert.equal(r.engine, 'openai');
    assert.equal(r.model, 'qwen2.5-7b-instruct');
    assert.equal(r.operationVersion, '1.0.0');
  });

  it('uses JSON output mode with the schema and parses the result', async () => {
    const jsonSchema = {
      type: 'object',
      properties: { appointments: { type: 'array', items: { type: 'string' } }, count: { type: 'integer' } },
      required: ['appointments', 'count'],
      additionalProperties: false,
    };
    const r = await runOperation(
      opts,
      'prompt',
      { template: 'Extract appointments from {{data}}', jsonSchema },
      docs,
    );
    const req = fake.requests[0];
    assert.deepEqual(req.problems, []);
    assert.deepEqual(req.body?.response_format, {
      type: 'json_schema',
      json_schema: { name: 'output', schema: jsonSchema, strict: true },
    });
    const out = r.output as { json: { appointments: string[]; count: number } };
    const userLength = String(req.body.messages!.at(-1)!.content).length;
    assert.equal(out.json.count, userLength);
    assert.match(out.json.appointments[0], /^sha:[0-9a-f]{8}$/);
  });

  it('chunks data larger than the context, maps over the chunks, then combines', async () => {
    opts.openai!.contextChars = 1000;
    const long: InputDocument[] = Array.from({ length: 4 }, (_, i) => ({
      fileId: `fil_${i}`,
      name: `entry-${i}.txt`,
      contentType: 'text/plain',
      text: `${journalMoving}\n\nEntry marker ${i}.`,
    }));
    const r = await runOperation(opts, 'prompt', { template: 'Summarise:\n{{data}}' }, long);
    const out = r.output as { text: string; chunks: number; calls: number };
    assert.ok(out.chunks >= 3, `chunks ${out.chunks}`);
    assert.equal(out.calls, fake.requests.length);
    assert.ok(out.calls > out.chunks, 'at least one combine call');
    const users = fake.userMessages();
    for (const u of users) assert.ok(u.length <= 1000, `request of ${u.length} chars exceeds the context`);
    for (let i = 0; i < 4; i++) {
      assert.ok(
        users.slice(0, out.chunks).some((u) => u.includes(`Entry marker ${i}.`)),
        `chunk with marker ${i}`,
      );
    }
    const last = users.at(-1)!;
    assert.ok(last.startsWith('Summarise:\n'));
    assert.match(last, /combine them into one result/);
    assert.match(last, /--- part 1 of \d+ ---\nanswer sha:/);
    assert.match(out.text, /^answer sha:[0-9a-f]{8} chars:\d+ parts:[1-9]\d*$/);
  });

  it('retries a 500 and then succeeds', async () => {
    fake.script({ kind: 'status', status: 500 });
    const r = await runOperation(opts, 'prompt', { template: 'Summarise {{data}}' }, docs);
    assert.equal(fake.requests.length, 2);
    assert.deepEqual(fake.requests[0].body, fake.requests[1].body, 'the same request is retried');
    assert.match((r.output as { text: string }).text, /^answer /);
  });

  it('retries a 429, honouring Retry-After', async () => {
    fake.script({ kind: 'status', status: 429, retryAfter: '0' }, { kind: 'status', status: 503 });
    const r = await runOperation(opts, 'prompt', { template: 'Summarise {{data}}' }, docs);
    assert.equal(fake.requests.length, 3);
    assert.match((r.output as { text: string }).text, /^answer /);
  });

  it('gives up after maxRetries with engine_failed (retryable by the job runner)', async () => {
    fake.script(...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 502 })));
    await assert.rejects(
      runOperation(opts, 'prompt', { template: 'Summarise {{data}}' }, docs),
      (e: unknown) =>
        isCode('engine_failed')(e) &&
        (e as InferenceError).retryable &&
        /HTTP 502/.test((e as Error).message),
    );
    assert.equal(fake.requests.length, 3);
  });

  it('does not retry a 4xx', async () => {
    fake.script({ kind: 'status', status: 400 });
    await assert.rejects(
      runOperation(opts, 'prompt', { template: 'Summarise {{data}}' }, docs),
      (e: unknown) => isCode('engine_failed')(e) && !(e as InferenceError).retryable,
    );
    assert.equal(fake.requests.length, 1);
  });

  it('does not follow a redirect: the data never reaches the server it points to', async () => {
    // The attack: a trusted endpoint answers 307 (method and body kept) to a server the operator never trusted.
    const elsewhere = await startFakeOpenAI({ model: 'qwen2.5-7b-instruct', apiKey: 'sk-test' });
    try {
      for (const status of [307, 308, 302] as const) {
        fake.reset();
        fake.script({ kind: 'redirect', status, location: `${elsewhere.baseUrl}/chat/completions` });
        await assert.rejects(
          runOperation(opts, 'prompt', { template: 'Summarise {{data}}' }, docs),
          (e: unknown) =>
            isCode('engine_failed')(e) &&
            !(e as InferenceError).retryable &&
            /redirect/.test((e as Error).message),
        );
        assert.equal(fake.requests.length, 1, `one request to the trusted endpoint (${status})`);
        assert.equal(elsewhere.requests.length, 0, `nothing reached the redirect target (${status})`);
      }
    } finally {
      await elsewhere.close();
    }
  });

  it('times out a request that never answers', async () => {
    opts.openai!.timeoutMs = 150;
    opts.openai!.maxRetries = 0;
    fake.script({ kind: 'hang' });
    const started = Date.now();
    await assert.rejects(
      runOperation(opts, 'prompt', { template: 'Summarise {{data}}' }, docs),
      (e: unknown) => isCode('timeout')(e) && (e as InferenceError).status === 504,
    );
    assert.ok(Date.now() - started < 2000);
    assert.equal(fake.requests.length, 1);
  });

  it('succeeds when a slow answer is within the timeout', async () => {
    fake.script({ kind: 'delay', ms: 50 });
    const r = await runOperation(opts, 'prompt', { template: 'Summarise {{data}}' }, docs);
    assert.match((r.output as { text: string }).text, /^answer /);
  });

  it('stops on cancellation', async () => {
    fake.script({ kind: 'hang' });
    const ac = new AbortController();
    const p = runOperation(opts, 'prompt', { template: 'Summarise {{data}}' }, docs, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(p, isCode('aborted'));
  });

  it('refuses input over the operation limit without sending it', async () => {
    const big: InputDocument = {
      fileId: 'big',
      name: 'big.txt',
      contentType: 'text/plain',
      text: 'x'.repeat(5 * 1024 * 1024),
    };
    await assert.rejects(
      runOperation(opts, 'prompt', { template: '{{data}}' }, [big]),
      isCode('input_too_large'),
    );
    assert.equal(fake.requests.length, 0);
  });
});
