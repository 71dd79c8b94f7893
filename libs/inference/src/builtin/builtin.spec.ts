import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runOperation } from '../run';
import { InferenceError } from '../errors';
import {
  allFixtures,
  emailDentist,
  emailProject,
  journalBadWeek,
  journalHike,
  journalMoving,
} from '../fixtures/texts';
import type { InputDocument } from '../types';

const opts = {};
const doc = (fileId: string, text: string, contentType = 'text/plain'): InputDocument => ({
  fileId,
  name: `${fileId}.txt`,
  contentType,
  text,
});

interface Summary {
  summary: string;
  sentences: { fileId: string; index: number; text: string; score: number }[];
}
interface Sentiment {
  overall: { score: number; label: string };
  documents: { fileId: string; score: number; label: string }[];
}
interface Ask {
  passages: { fileId: string; text: string; score: number; passage: number }[];
}

describe('builtin engine on real English text', () => {
  it('summarize picks the sentence the entry is about, in reading order', async () => {
    const r = await runOperation(opts, 'summarize', { sentences: 1 }, [doc('fil_moving', journalMoving)]);
    const out = r.output as Summary;
    assert.equal(out.sentences.length, 1);
    assert.match(out.summary, /moved into the new apartment/);
    assert.equal(r.engine, 'builtin');
    assert.match(r.model, /^wink-eng-lite-web-model@/);
    assert.match(r.codeHash, /^0x[0-9a-f]{64}$/);

    const three = (await runOperation(opts, 'summarize', {}, allFixtures)).output as Summary;
    assert.equal(three.sentences.length, 3, 'default is 3 sentences');
    for (const s of three.sentences)
      assert.doesNotMatch(s.text, /^(From|To|Subject):/m, 'email headers are not prose');
    const order = three.sentences.map(
      (s) => allFixtures.findIndex((f) => f.fileId === s.fileId) * 1000 + s.index,
    );
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      'sentences come in reading order',
    );
  });

  it('sentiment: the bad week is negative, the hike positive, per document and overall', async () => {
    const out = (await runOperation(opts, 'sentiment', {}, allFixtures)).output as Sentiment;
    const by = new Map(out.documents.map((d) => [d.fileId, d]));
    assert.equal(by.get('fil_journal_bad_week')?.label, 'negative');
    assert.ok(by.get('fil_journal_bad_week')!.score < -0.1);
    assert.equal(by.get('fil_journal_hike')?.label, 'positive');
    assert.ok(by.get('fil_journal_hike')!.score > 0.2);

    const onlyBad = (await runOperation(opts, 'sentiment', {}, [doc('bad', journalBadWeek)]))
      .output as Sentiment;
    assert.equal(onlyBad.overall.label, 'negative');
    const mixed = (
      await runOperation(opts, 'sentiment', {}, [doc('bad', journalBadWeek), doc('hike', journalHike)])
    ).output as Sentiment;
    assert.ok(mixed.overall.score > onlyBad.overall.score, 'a happy entry lifts the overall score');
  });

  it('keywords are the terms the email is about', async () => {
    const out = (await runOperation(opts, 'keywords', { top: 5 }, [doc('proj', emailProject)])).output as {
      keywords: { term: string; count: number }[];
    };
    assert.equal(out.keywords.length, 5);
    assert.equal(out.keywords[0]?.term, 'project');
    assert.equal(out.keywords[0]?.count, 3);
    const terms = out.keywords.map((k) => k.term);
    assert.ok(terms.includes('budget') && terms.includes('deadline'), terms.join(','));
    assert.ok(!terms.includes('the') && !terms.includes('for'), 'no stop words');
  });

  it('entities finds people, dates, times, money and emails with counts', async () => {
    const out = (await runOperation(opts, 'entities', {}, [doc('dent', emailDentist)])).output as {
      entities: { type: string; value: string; count: number }[];
      byType: Record<string, { distinct: number; mentions: number }>;
    };
    const has = (type: string, value: string): boolean =>
      out.entities.some((e) => e.type === type && e.value === value);
    assert.ok(has('NAME', 'Dr. Patel'));
    assert.ok(has('NAME', 'Riverside Dental'));
    assert.ok(has('DATE', 'Tuesday'));
    assert.ok(has('DATE', 'March 12'));
    assert.ok(has('TIME', '3:30 pm'));
    assert.ok(has('MONEY', '$120'));
    assert.ok(has('EMAIL', 'sam.carter@example.com'));
    assert.ok(!has('NAME', 'Kind') && !has('NAME', 'Subject'), 'capitalised line starts are not names');
    assert.equal(out.entities.find((e) => e.value === 'Riverside Dental')?.count, 2);
    assert.equal(out.byType.MONEY?.mentions, 1);

    const onlyDates = (await runOperation(opts, 'entities', { types: ['DATE'] }, [doc('dent', emailDentist)]))
      .output as {
      entities: { type: string }[];
    };
    assert.ok(onlyDates.entities.length >= 2 && onlyDates.entities.every((e) => e.type === 'DATE'));
  });

  it('stats counts words, sentences and reading time exactly', async () => {
    const text = 'The cat sat on the mat. The dog ran away!\n\nIt rained. Café au lait ☕.';
    const out = (await runOperation(opts, 'stats', {}, [doc('s', text)])).output as Record<string, unknown>;
    assert.equal(out.documents, 1);
    assert.equal(out.words, 15);
    assert.equal(out.sentences, 4);
    assert.equal(out.bytes, Buffer.byteLength(text));
    assert.equal(out.characters, [...text].length);
    assert.equal(out.uniqueWords, 13, 'the/The counted once');
    assert.equal(out.readingTimeSeconds, 4);
  });

  it('ask returns the passage that answers the question first, with its file id', async () => {
    const dentist = (
      await runOperation(opts, 'ask', { question: 'When is the dentist appointment?' }, allFixtures)
    ).output as Ask;
    assert.equal(dentist.passages[0]?.fileId, 'fil_email_dentist');
    assert.match(dentist.passages[0].text, /dentist appointment with Dr\. Patel is on Tuesday/);
    assert.ok(dentist.passages[0].text.length < emailDentist.length / 2, 'a passage, not the whole file');

    const budget = (
      await runOperation(
        opts,
        'ask',
        { question: 'How much is the budget for the project?', topK: 1 },
        allFixtures,
      )
    ).output as Ask;
    assert.equal(budget.passages.length, 1);
    assert.equal(budget.passages[0]?.fileId, 'fil_email_project');
    assert.match(budget.passages[0].text, /\$45,000/);

    const lake = (
      await runOperation(opts, 'ask', { question: 'Which lake did we hike to?', topK: 2 }, allFixtures)
    ).output as Ask;
    assert.equal(lake.passages[0]?.fileId, 'fil_journal_hike');
    assert.match(lake.passages[0].text, /hiked up to Lake Serene/);
    assert.ok(lake.passages[0].score >= (lake.passages[1]?.score ?? 0));

    const none = (await runOperation(opts, 'ask', { question: 'quantum chromodynamics' }, allFixtures))
      .output as Ask;
    assert.deepEqual(none.passages, []);
  });

  it('is deterministic', async () => {
    const a = await runOperation(opts, 'ask', { question: 'rent landlord', topK: 5 }, allFixtures);
    const b = await runOperation(opts, 'ask', { question: 'rent landlord', topK: 5 }, allFixtures);
    assert.deepEqual(a, b);
  });

  it('decodes bytes as UTF-8 and refuses binary types and invalid UTF-8', async () => {
    const bytes = new TextEncoder().encode('\ufeffThe café was lovely. We will go back soon.');
    const r = await runOperation(opts, 'stats', {}, [
      { fileId: 'b', name: 'b.txt', contentType: 'text/markdown; charset=UTF-8', bytes },
    ]);
    assert.equal((r.output as { words: number }).words, 9);

    await assert.rejects(
      runOperation(opts, 'stats', {}, [
        { fileId: 'p', name: 'p.pdf', contentType: 'application/pdf', bytes },
      ]),
      (e: unknown) =>
        e instanceof InferenceError && e.code === 'unsupported_content_type' && e.status === 415,
    );
    await assert.rejects(
      runOperation(opts, 'stats', {}, [
        {
          fileId: 'x',
          name: 'x.txt',
          contentType: 'text/plain',
          bytes: Uint8Array.from([0x61, 0xff, 0xfe, 0x62]),
        },
      ]),
      (e: unknown) => e instanceof InferenceError && e.code === 'invalid_encoding',
    );
    await assert.rejects(
      runOperation(opts, 'stats', {}, [
        { fileId: 'l', name: 'l.txt', contentType: 'text/plain; charset=latin1', bytes },
      ]),
      (e: unknown) => e instanceof InferenceError && e.code === 'unsupported_content_type',
    );
  });

  it('enforces the input size limit before any work', async () => {
    const big = 'All work and no play makes Jack a dull boy. '.repeat(400_000); // ~17.6 MB > 16 MiB
    await assert.rejects(
      runOperation(opts, 'summarize', {}, [doc('big', big)]),
      (e: unknown) => e instanceof InferenceError && e.code === 'input_too_large' && e.status === 413,
    );
    await assert.rejects(
      runOperation(opts, 'stats', {}, []),
      (e: unknown) => e instanceof InferenceError && e.code === 'no_input',
    );
  });

  it('honours an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      runOperation(opts, 'stats', {}, allFixtures, { signal: ac.signal }),
      (e: unknown) => e instanceof InferenceError && e.code === 'aborted',
    );
  });
});
