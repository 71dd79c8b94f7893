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
import { countWords, getNlp, readSentences, readWordSentences } from './nlp';

const opts = {};
const doc = (fileId: string, text: string, contentType = 'text/plain'): InputDocument => ({
  fileId,
  name: `${fileId}.txt`,
  contentType,
  text,
});

interface Summary {
  summary: string;
  groups: { key: string; sentences: { recordId: string; text: string }[] }[];
}
interface Sentiment {
  overall: { score: number; label: string };
  documents: { fileId: string; score: number; label: string }[];
}
interface Quote {
  recordId: string;
  text: string;
  score: number;
  source: { fileId: string };
}
interface Ask {
  answer: Quote | null;
  quotes: Quote[];
}
const ranked = (a: Ask): Quote[] => (a.answer ? [a.answer, ...a.quotes] : []);

describe('builtin engine on real English text', () => {
  it('summarize picks the sentence the entry is about, in reading order', async () => {
    const r = await runOperation(opts, 'summarize', { sentences: 1 }, [doc('fil_moving', journalMoving)]);
    const out = r.output as Summary;
    assert.equal(out.groups.length, 1);
    assert.equal(out.groups[0]?.sentences.length, 1);
    assert.match(out.summary, /moved into the new apartment/);
    assert.equal(r.engine, 'builtin');
    assert.match(r.model, /^wink-eng-lite-web-model@/);
    assert.match(r.codeHash, /^0x[0-9a-f]{64}$/);
    assert.equal(r.quotedChars, out.groups[0].key.length + out.groups[0].sentences[0].text.length);

    const all = (await runOperation(opts, 'summarize', {}, allFixtures)).output as Summary;
    assert.equal(all.groups.length, allFixtures.length, 'one group per file by default');
    for (const g of all.groups) {
      assert.ok(g.sentences.length <= 3, 'default is 3 sentences per group');
      for (const s of g.sentences)
        assert.doesNotMatch(s.text, /^(From|To|Subject):/m, 'email headers are not prose');
      const order = g.sentences.map((s) => Number(s.recordId.split('#')[1]));
      assert.deepEqual(
        order,
        [...order].sort((x, y) => x - y),
        'sentences come in reading order',
      );
    }
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

  it('entities groups people, places and organisations with counts', async () => {
    const out = (await runOperation(opts, 'entities', {}, [doc('dent', emailDentist)])).output as Record<
      'people' | 'places' | 'organisations',
      { name: string; count: number }[]
    >;
    const names = (g: 'people' | 'places' | 'organisations') => out[g].map((e) => e.name);
    assert.ok(names('people').includes('Dr. Patel'), names('people').join(','));
    assert.ok(
      names('organisations').some((n) => n.includes('Riverside Dental')),
      names('organisations').join(','),
    );
    const all = [...names('people'), ...names('places'), ...names('organisations')];
    assert.ok(!all.includes('Kind') && !all.includes('Subject'), 'capitalised line starts are not names');
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

  it('the word-level reading that counting uses agrees with the full reading on every count', async () => {
    const nlp = await getNlp();
    const texts = [
      ...allFixtures.map((f) => f.text),
      "Don't stop — it's 3.5 km to U.S. Route 66, isn't it? Yes!!! e-mail me@x.org at 10:30am #plans 🙂 :-)",
    ];
    for (const text of texts) {
      const full = readSentences(nlp, text).filter((s) => s.tokens.length > 0);
      const words = readWordSentences(nlp, text).filter((s) => s.tokens.length > 0);
      assert.equal(words.length, full.length, 'sentences');
      assert.equal(countWords(words), countWords(full), 'words');
      const normals = (ss: typeof words) => ss.flatMap((s) => s.tokens.map((t) => `${t.type}:${t.normal}`));
      assert.deepEqual(normals(words), normals(full), 'every token, its type and normal form');
    }
  });

  it('ask answers with the record that says it first, with its file, and short quotes', async () => {
    const dentist = (
      await runOperation(opts, 'ask', { question: 'When is the dentist appointment?' }, allFixtures)
    ).output as Ask;
    assert.equal(dentist.answer?.source.fileId, 'fil_email_dentist');
    assert.match(dentist.answer?.text ?? '', /dentist appointment with Dr\. Patel is on Tuesday/);
    for (const q of ranked(dentist)) assert.ok(q.text.length <= 300, 'quotes are at most 300 characters');

    const budget = (
      await runOperation(
        opts,
        'ask',
        { question: 'How much is the budget for the project?', quotes: 1 },
        allFixtures,
      )
    ).output as Ask;
    assert.equal(ranked(budget).length, 1);
    assert.equal(budget.answer?.source.fileId, 'fil_email_project');
    assert.match(budget.answer?.text ?? '', /\$45,000/);

    const lake = (
      await runOperation(opts, 'ask', { question: 'Which lake did we hike to?', quotes: 2 }, allFixtures)
    ).output as Ask;
    assert.equal(lake.answer?.source.fileId, 'fil_journal_hike');
    assert.match(lake.answer?.text ?? '', /Lake Serene/);

    const none = (
      await runOperation(opts, 'ask', { question: 'quantum chromodynamics', retrieval: 'bm25' }, allFixtures)
    ).output as Ask;
    assert.equal(none.answer, null);
    assert.deepEqual(none.quotes, []);
  });

  it('is deterministic', async () => {
    const a = await runOperation(opts, 'ask', { question: 'rent landlord', quotes: 5 }, allFixtures);
    const b = await runOperation(opts, 'ask', { question: 'rent landlord', quotes: 5 }, allFixtures);
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
