import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runOperation } from '../run';
import type { InputDocument } from '../types';

const journal = `## 2024-01-13
Leah came over and we built the bookshelf. My sister Leah is better with an Allen key than I am.

## 2024-02-09
Dinner at Leah's flat in Hackney. We talked about Mum's birthday at the Bath house.

## 2024-03-01
Went to the dentist at Bright Smile Clinic. One small filling.
`;
const chat = `14/03/2024, 18:03 - Leah: Are you coming on Saturday?\n14/03/2024, 18:05 - Sam: Yes, I will bring wine`;
const docs: InputDocument[] = [
  { fileId: 'fil_j', name: 'journal.md', contentType: 'text/markdown', text: journal },
  { fileId: 'fil_c', name: 'chat.txt', contentType: 'text/plain', text: chat },
];

describe('operations over records', () => {
  it('ask returns an answer record with date, author and source, and counts what it quotes', async () => {
    const r = await runOperation({}, 'ask', { question: 'Where did I have dinner?', quotes: 2 }, docs);
    const out = r.output as {
      answer: { recordId: string; time: string; text: string; source: { fileId: string; format: string } };
      quotes: { text: string }[];
    };
    assert.equal(out.answer.recordId, 'fil_j#1');
    assert.equal(out.answer.time, '2024-02-09T00:00:00.000Z');
    assert.equal(out.answer.source.format, 'journal');
    assert.ok(out.quotes.length <= 1);
    assert.ok(r.quotedChars >= out.answer.text.length);
    const short = (await runOperation({}, 'ask', { question: 'dinner', quoteChars: 40 }, docs)).output as {
      answer: { text: string };
    };
    assert.ok(short.answer.text.length <= 40);
  });

  it('timeline lists what happened when, about a person', async () => {
    const out = (await runOperation({}, 'timeline', { about: 'Leah' }, docs)).output as {
      events: { time: string; recordId: string }[];
    };
    const times = out.events.map((e) => e.time);
    assert.deepEqual(times, [...times].sort());
    assert.ok(out.events.some((e) => e.recordId === 'fil_j#0'));
    assert.ok(!out.events.some((e) => e.recordId === 'fil_j#2'), 'the dentist is not about Leah');
  });

  it('entities groups people, places and organisations', async () => {
    const out = (await runOperation({}, 'entities', {}, docs)).output as Record<string, { name: string }[]>;
    assert.ok(out.people.some((e) => e.name === 'Leah'));
    assert.ok(out.places.some((e) => e.name === 'Hackney'));
    assert.ok(out.organisations.some((e) => e.name === 'Bright Smile Clinic'));
  });

  it('keywords ignore markup, field names and timestamps', async () => {
    const telegram = JSON.stringify({
      name: 'Leah',
      messages: [
        {
          id: 1,
          type: 'message',
          date: '2024-01-01T10:00:00',
          from: 'Leah',
          text: 'The **risotto** was lovely',
        },
        { id: 2, type: 'message', date: '2024-01-02T10:00:00', from: 'Sam', text: 'Risotto again soon' },
      ],
    });
    const out = (
      await runOperation({}, 'keywords', {}, [
        { fileId: 'f', name: 'result.json', contentType: 'application/json', text: telegram },
      ])
    ).output as { keywords: { term: string }[] };
    const terms = out.keywords.map((k) => k.term);
    assert.equal(terms[0], 'risotto');
    for (const noise of ['timestamp', 'date', 'message', 'type', 'text', 'from'])
      assert.ok(!terms.includes(noise), noise);
  });

  it('summarize per day quotes no headers; an mbox and invalid UTF-8 are read, with a warning', async () => {
    const mbox =
      'From a@x Thu Jan  4 09:12:00 2024\nFrom: A <a@x>\nSubject: Plans\nDate: Thu, 4 Jan 2024 09:12:00 +0000\n\nWe should book the cottage in Wales for the long weekend.\n';
    const bytes = Buffer.concat([Buffer.from(mbox), Buffer.from([0xff, 0xfe])]);
    const r = await runOperation({}, 'summarize', { by: 'day' }, [
      { fileId: 'm', name: 'x', contentType: 'application/mbox', bytes },
    ]);
    const out = r.output as { groups: { key: string; summary: string }[]; warnings: { warning: string }[] };
    assert.equal(out.groups[0]?.key, '2024-01-04');
    assert.match(out.groups[0].summary, /cottage in Wales/);
    assert.doesNotMatch(out.groups[0].summary, /Subject|From:/);
    assert.ok(out.warnings.some((w) => /UTF-8/.test(w.warning)));
  });
});
