import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TextDocument } from '../text';
import { stripQuotedReply } from './clean';
import { findDate } from './dates';
import { detectFormat, parseFile } from './parse';
import { RECORD_LIMITS } from './types';

const corpus = (file: string) =>
  readFileSync(join(__dirname, '..', '..', '..', '..', '..', 'bench', 'corpus', file), 'utf8');
const doc = (name: string, contentType: string, text: string): TextDocument => ({
  fileId: 'fil_t',
  name,
  contentType,
  text,
  bytes: Buffer.byteLength(text),
});

describe('format detection', () => {
  it('reads the content type, then the name, then the content', () => {
    assert.equal(detectFormat('application/mbox', 'x', 'anything'), 'mbox');
    assert.equal(detectFormat('message/rfc822', 'x', 'anything'), 'email');
    assert.equal(detectFormat('application/octet-stream', 'a.eml', ''), 'email');
    assert.equal(detectFormat('text/plain', 'chat.txt', corpus('whatsapp-leah.txt')), 'whatsapp');
    assert.equal(detectFormat('text/plain', 'x.txt', corpus('journal.md')), 'journal');
    assert.equal(detectFormat('text/plain', 'export', corpus('telegram-priya.json')), 'json');
    assert.equal(detectFormat('text/plain', 'notes', 'From: a@b\nTo: c@d\nSubject: hi\n\nbody'), 'email');
    assert.equal(detectFormat('text/plain', 'notes', 'just some words'), 'text');
  });
});

describe('email and mbox', () => {
  it('parses an mbox into emails with authors, dates, subjects and threads, without headers or quoted replies', async () => {
    const parsed = await parseFile(doc('mail.mbox', 'application/mbox', corpus('mail.mbox')));
    assert.equal(parsed.format, 'mbox');
    assert.equal(parsed.records.length, 11);
    assert.deepEqual(parsed.warnings, []);
    const [first, reply, praise] = parsed.records;
    assert.equal(first?.kind, 'email');
    assert.equal(first?.author, 'Daniel Reyes');
    assert.equal(first?.subject, 'Harbour quarterly report');
    assert.equal(first?.time, '2024-01-04T09:12:00.000Z');
    assert.ok(first?.participants.includes('Sam Carter'));
    assert.equal(reply?.source.thread, first?.source.thread, 'a reply joins its thread');
    assert.equal(praise?.source.thread, first?.source.thread);
    assert.doesNotMatch(reply.text, /wrote:|^>/m, 'the quoted reply is gone');
    assert.match(reply.text, /December churn export/);
    assert.doesNotMatch(praise.text, /Head of Analytics/, 'the signature is gone');
    for (const r of parsed.records)
      assert.doesNotMatch(r.text, /^(From|To|Subject|Date|Message-ID):/im, 'no headers');
    const offer = parsed.records.find((r) => r.text.includes('make an offer'));
    assert.doesNotMatch(
      offer!.text,
      /Original Message|Thank you for your interest/,
      'the forwarded original is gone',
    );
    const threads = new Set(parsed.records.map((r) => r.source.thread));
    assert.equal(threads.size, 4, 'four conversations');
  });

  it('reads an HTML-only .eml as text', async () => {
    const parsed = await parseFile(doc('dentist.eml', 'message/rfc822', corpus('dentist.eml')));
    assert.equal(parsed.records.length, 1);
    assert.match(parsed.records[0].text, /Dr Okafor is confirmed for Friday 2 February 2024/);
    assert.doesNotMatch(parsed.records[0].text, /<\/?p>|<b>/);
  });

  it('strips "On … wrote:" over two lines, > quotes and Outlook originals', () => {
    const body = 'Sounds good.\n\nOn Tue, 5 Mar 2024 at 10:12, Leah <l@x.org>\nwrote:\n> old text\n> more';
    assert.equal(stripQuotedReply(body).trim(), 'Sounds good.');
    const outlook = 'Yes.\n________________________________\nFrom: A\nSent: today\nSubject: x\n\nold';
    assert.equal(stripQuotedReply(outlook).trim(), 'Yes.');
  });

  it('a malformed mbox still yields records or falls back to text with a warning', async () => {
    const junk = 'From nobody\n\u0000\u0001 garbage ::: no headers at all\n\nFrom \n:::';
    const parsed = await parseFile(doc('bad.mbox', 'application/mbox', junk));
    assert.ok(parsed.records.length >= 1);
    const none = await parseFile(doc('empty.mbox', 'application/mbox', 'no separator, no headers'));
    assert.ok(none.records.length >= 1);
    assert.ok(none.warnings.some((w) => /separator/.test(w)));
  });
});

describe('chat exports', () => {
  it('WhatsApp: one record per message, continuation lines joined, notices and media dropped', async () => {
    const parsed = await parseFile(doc('chat.txt', 'text/plain', corpus('whatsapp-leah.txt')));
    assert.equal(parsed.format, 'whatsapp');
    assert.ok(!parsed.records.some((r) => /end-to-end encrypted|Media omitted/.test(r.text)));
    const first = parsed.records[0];
    assert.equal(first.author, 'Leah');
    assert.equal(first.time, '2024-01-04T20:14:00.000Z');
    assert.deepEqual([...first.participants].sort(), ['Leah', 'Sam']);
    const us = await parseFile(
      doc('c.txt', 'text/plain', '[3/14/24, 6:03:21 PM] Leah: hi\n[3/15/24, 9:10:00 AM] Sam: multi\nline'),
    );
    assert.equal(us.records[0]?.time, '2024-03-14T18:03:21.000Z', 'month first when a day is past 12');
    assert.equal(us.records[1]?.text, 'multi\nline');
  });

  it('Telegram: messages with rich text joined, service messages skipped', async () => {
    const parsed = await parseFile(doc('result.json', 'application/json', corpus('telegram-priya.json')));
    assert.equal(parsed.format, 'telegram');
    assert.equal(parsed.records.length, 14);
    const recipe = parsed.records.find((r) => r.text.includes('lemon pasta'));
    assert.match(recipe!.text, /zest of two lemons, parmesan/);
    assert.equal(recipe!.author, 'Priya Nair');
    assert.equal(recipe!.source.thread, 'Priya Nair');
  });

  it('Slack and Discord JSON exports', async () => {
    const slack = JSON.stringify([
      {
        type: 'message',
        user: 'U1',
        text: 'Deploy at <https://x.example|the dashboard> :tada:',
        ts: '1710439401.000200',
        user_profile: { real_name: 'Aisha Khan' },
      },
      { type: 'message', subtype: 'channel_join', user: 'U2', text: 'joined', ts: '1710439402.0' },
    ]);
    const s = await parseFile(doc('general.json', 'application/json', slack));
    assert.equal(s.format, 'slack');
    assert.equal(s.records.length, 1);
    assert.equal(s.records[0]?.text, 'Deploy at the dashboard');
    assert.equal(s.records[0]?.author, 'Aisha Khan');
    assert.equal(s.records[0]?.time, new Date(1710439401000).toISOString());
    const discord = JSON.stringify({
      guild: { name: 'g' },
      channel: { name: 'books' },
      messages: [
        {
          id: '1',
          timestamp: '2024-03-01T10:00:00+00:00',
          content: '**Piranesi** next?',
          author: { name: 'priya', nickname: 'Priya' },
        },
      ],
    });
    const d = await parseFile(doc('books.json', 'application/json', discord));
    assert.equal(d.format, 'discord');
    assert.equal(d.records[0]?.text, 'Piranesi next?');
    assert.equal(d.records[0]?.author, 'Priya');
    assert.equal(d.records[0]?.source.thread, 'books');
  });
});

describe('journals, JSON, CSV and text', () => {
  it('journal: one entry per dated heading, in any of the usual date forms, markup removed', async () => {
    const parsed = await parseFile(doc('journal.md', 'text/markdown', corpus('journal.md')));
    assert.equal(parsed.format, 'journal');
    const dated = parsed.records.filter((r) => r.time !== null);
    assert.equal(dated.length, 34);
    const dinner = dated.find((r) => r.text.includes("Dinner at Leah's flat"));
    assert.equal(dinner?.time, '2024-02-09T00:00:00.000Z');
    const lisbon = dated.find((r) => r.subject === 'Lisbon');
    assert.equal(lisbon?.time, '2024-03-22T00:00:00.000Z');
    assert.equal(dated.find((r) => r.text.startsWith('Dentist'))?.time, '2024-02-02T00:00:00.000Z');
    for (const r of parsed.records) assert.doesNotMatch(r.text, /^#/m);
    assert.equal(findDate('March 14, 2024'), '2024-03-14T00:00:00.000Z');
    assert.equal(findDate('31/02/2024'), null, 'no such day');
  });

  it('generic JSON keeps values, never field names; CSV rows become records', async () => {
    const json = JSON.stringify({
      items: [{ id: 'a1', created_at: '2024-01-02T03:04:05Z', note: 'Bought a blue bike', tags: ['t20'] }],
    });
    const j = await parseFile(doc('notes.json', 'application/json', json));
    assert.equal(j.format, 'json');
    assert.equal(j.records[0]?.text, 'Bought a blue bike');
    assert.equal(j.records[0]?.time, '2024-01-02T03:04:05.000Z');
    const c = await parseFile(
      doc('log.csv', 'text/csv', 'date,title,body\n2024-05-01,Run,"Ran 5k, felt ""great"""\n'),
    );
    assert.equal(c.format, 'csv');
    assert.equal(c.records[0]?.text, 'Ran 5k, felt "great"');
    assert.equal(c.records[0]?.subject, 'Run');
  });

  it('a file that fails to parse is read as text and says why', async () => {
    const broken = await parseFile(
      doc('x.json', 'application/json', '{"messages": [ {"text": "hello there", '),
    );
    assert.equal(broken.format, 'text');
    assert.ok(broken.warnings.some((w) => /not valid JSON/.test(w)));
    assert.match(broken.records[0].text, /hello there/);
  });
});

describe('hostile input stays bounded', () => {
  it('a chat export of 10^6 messages stops at the record cap with a warning', async () => {
    const line = '01/02/2024, 10:00 - A: x\n';
    const text = line.repeat(1_000_000);
    const started = performance.now();
    const parsed = await parseFile(doc('huge.txt', 'text/plain', text));
    assert.equal(parsed.records.length, RECORD_LIMITS.maxRecordsPerFile);
    assert.ok(parsed.warnings.some((w) => /more than/.test(w)));
    assert.ok(performance.now() - started < 20_000);
  });

  it('one huge line becomes bounded records', async () => {
    const text = 'word '.repeat(2_000_000); // 10 MB, no newline
    const parsed = await parseFile(doc('journal.md', 'text/plain', text));
    assert.ok(parsed.records.length > 1);
    for (const r of parsed.records) assert.ok(r.text.length <= RECORD_LIMITS.maxRecordChars);
  });

  it('deeply nested JSON is read as text, not walked into a stack overflow', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const parsed = await parseFile(doc('deep.json', 'application/json', deep));
    assert.ok(parsed.warnings.length > 0 || parsed.records.length === 0);
  });
});
