import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InferenceError } from '../errors';
import { collectiveEntries } from '../fixtures/texts';
import { runOperation } from '../run';
import type { InputDocument } from '../types';

const docs: InputDocument[] = collectiveEntries.map((e, i) => ({
  fileId: `fil_${i}`,
  name: `entry-${i}.txt`,
  contentType: 'text/plain',
  text: e.text,
  contributor: e.contributor,
}));

/** No output of an aggregate operation may carry a member's words beyond single terms. */
function assertNoMemberText(output: unknown): void {
  const json = JSON.stringify(output);
  for (const e of collectiveEntries) {
    for (const sentence of e.text.split(/(?<=[.!?])\s+/)) {
      const words = sentence.split(/\s+/);
      for (let i = 0; i + 3 <= words.length; i++) {
        const trigram = words.slice(i, i + 3).join(' ');
        assert.ok(!json.includes(trigram), `output leaks "${trigram}"`);
      }
    }
  }
}

describe('aggregate operations', () => {
  it('are marked aggregate and refuse fewer than k contributors', async () => {
    for (const name of ['counts', 'sentiment_distribution', 'top_keywords', 'topic_frequencies']) {
      await assert.rejects(
        runOperation({}, name, {}, docs, { k: 7 }),
        (e: unknown) => e instanceof InferenceError && e.code === 'below_k_threshold',
        name,
      );
      // The default k is the design's 5; 6 contributors pass.
      assertNoMemberText((await runOperation({}, name, {}, docs)).output);
    }
  });

  it('refuse documents without a contributor', async () => {
    const [first, ...rest] = docs;
    const { contributor: _dropped, ...anonymous } = first;
    await assert.rejects(
      runOperation({}, 'counts', {}, [anonymous, ...rest], { k: 2 }),
      (e: unknown) => e instanceof InferenceError && e.code === 'missing_contributor',
    );
  });

  it('counts documents, words and contributors', async () => {
    const out = (await runOperation({}, 'counts', {}, docs, { k: 5 })).output as Record<string, number>;
    const words = collectiveEntries.reduce((n, e) => n + (e.text.match(/[A-Za-z]+/g) ?? []).length, 0);
    assert.deepEqual(out, { documents: 7, words, sentences: 13, contributors: 6 });
  });

  it('top_keywords drops terms used by fewer than k contributors', async () => {
    const out = (await runOperation({}, 'top_keywords', {}, docs, { k: 5 })).output as {
      keywords: { term: string; contributors: number; documents: number }[];
    };
    assert.deepEqual(out.keywords, [{ term: 'doctor', contributors: 5, documents: 5 }]);
    // "lighthouse" is used three times, but by one member only.
    const k1 = (await runOperation({}, 'top_keywords', { top: 100 }, docs, { k: 1 })).output as {
      keywords: { term: string; contributors: number; documents: number }[];
    };
    assert.deepEqual(
      k1.keywords.find((t) => t.term === 'lighthouse'),
      { term: 'lighthouse', contributors: 1, documents: 2 },
    );
    const k2 = (await runOperation({}, 'top_keywords', { top: 100 }, docs, { k: 2 })).output as {
      keywords: { term: string }[];
    };
    assert.ok(!k2.keywords.some((t) => t.term === 'lighthouse' || t.term === 'inchkeith'));
  });

  it('sentiment_distribution counts documents and contributors per label', async () => {
    const out = (await runOperation({}, 'sentiment_distribution', {}, docs, { k: 5 })).output as {
      documents: Record<string, number>;
      contributors: Record<string, number>;
    };
    assert.equal(out.documents.positive + out.documents.neutral + out.documents.negative, 7);
    assert.equal(out.contributors.positive + out.contributors.neutral + out.contributors.negative, 6);
    assert.ok(out.documents.negative >= 2, 'the sleep and money entries are negative');
    assert.ok(out.documents.positive >= 3);
  });

  it('topic_frequencies withholds topics below k and accepts custom topics', async () => {
    const out = (await runOperation({}, 'topic_frequencies', {}, docs, { k: 5 })).output as {
      topics: { topic: string; documents: number; contributors: number }[];
      withheld: number;
    };
    assert.deepEqual(out.topics, [{ topic: 'health', documents: 5, contributors: 5 }]);
    assert.equal(out.withheld, 9);
    const custom = (
      await runOperation(
        {},
        'topic_frequencies',
        { topics: { medical: ['doctor', 'physiotherapy'], books: ['novel'] } },
        docs,
        {
          k: 1,
        },
      )
    ).output as { topics: { topic: string; documents: number; contributors: number }[] };
    assert.deepEqual(custom.topics, [
      { topic: 'medical', documents: 5, contributors: 5 },
      { topic: 'books', documents: 2, contributors: 1 },
    ]);
  });
});
