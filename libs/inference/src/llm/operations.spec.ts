import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeOpenAI, type FakeOpenAI } from '../../../../test/support/fake-openai';
import { emailDentist, journalMoving } from '../fixtures/texts';
import { runOperation } from '../run';
import type { InferenceOptions, InputDocument } from '../types';
import { answerSchema, LLM_QUOTE_CHARS } from './operations';

const docs: InputDocument[] = [
  { fileId: 'fil_dentist', name: 'secret-dentist.eml', contentType: 'message/rfc822', text: emailDentist },
  { fileId: 'fil_moving', name: 'secret-moving.txt', contentType: 'text/plain', text: journalMoving },
];

describe('LLM operations on the openai engine (a fake OpenAI-compatible server)', () => {
  let fake: FakeOpenAI;
  let opts: InferenceOptions;
  before(async () => {
    fake = await startFakeOpenAI({ model: 'm' });
  });
  after(() => fake.close());
  beforeEach(() => {
    fake.reset();
    opts = { openai: { baseUrl: fake.baseUrl, model: 'm', trustedBaseUrls: [fake.baseUrl], maxRetries: 0 } };
  });

  it('llm_ask shows ranked passages by id, constrains citations to them and quotes what it cites', async () => {
    const run = await runOperation(
      opts,
      'llm_ask',
      { question: 'When is the dentist?', maxCitations: 2 },
      docs,
    );
    assert.equal(run.engine, 'openai');
    const [request] = fake.requests;
    assert.deepEqual(request.problems, []);
    const user = String(request.body?.messages?.at(-1)?.content);
    assert.match(user, /\[fil_dentist#\d+\]/);
    assert.ok(!user.includes('secret-'), 'file names never reach the model');
    const schema = request.body?.response_format?.json_schema?.schema as {
      properties: {
        answer: Record<string, unknown>;
        citations: { items: { enum: string[] }; maxItems: number };
      };
    };
    // OpenAI's strict mode refuses maxLength: the answer is cut after it arrives instead.
    assert.deepEqual(schema.properties.answer, { type: 'string' });
    assert.equal(schema.properties.citations.maxItems, 2);
    const shown = schema.properties.citations.items.enum;
    assert.ok(shown.length >= 1 && shown.every((id) => /^fil_(dentist|moving)#\d+$/.test(id)));
    // The best passage for the question comes first.
    assert.match(shown[0], /^fil_dentist#/);

    const out = run.output as {
      answer: string;
      citations: Array<{ id: string; fileId: string; passage: number; quote: string }>;
      quotedCharacters: number;
    };
    assert.equal(out.citations.length, 1);
    assert.equal(out.citations[0].id, shown[0]);
    assert.equal(out.citations[0].fileId, 'fil_dentist');
    assert.ok(
      out.citations[0].quote.length <= LLM_QUOTE_CHARS && emailDentist.includes(out.citations[0].quote),
    );
    assert.equal(out.quotedCharacters, out.citations[0].quote.length);
  });

  it('llm_ask cites nothing it was not shown, and llm_summarize asks for its focus', async () => {
    const none = await runOperation(opts, 'llm_ask', { question: 'Anything?', maxCitations: 0 }, docs);
    assert.deepEqual((none.output as { citations: unknown[] }).citations, []);
    const summary = await runOperation(opts, 'llm_summarize', { maxWords: 10, focus: 'the dentist' }, docs);
    const s = summary.output as { summary: string };
    assert.match(s.summary, /^answer sha:[0-9a-f]{8} chars:\d+ parts:\d+$/);
    const prompt = fake.userMessages().at(-1) ?? '';
    assert.match(prompt, /about the dentist/);
    assert.ok(!prompt.includes('secret-'));
  });

  it("the answer schema's citations enumerate only the ids shown", () => {
    const schema = answerSchema(['fil_a#0', 'fil_a#1'], 3, 100) as {
      properties: { answer: { maxLength: number }; citations: { items: { enum: string[] } } };
    };
    assert.equal(schema.properties.answer.maxLength, 100);
    assert.deepEqual(schema.properties.citations.items.enum, ['fil_a#0', 'fil_a#1']);
  });
});
