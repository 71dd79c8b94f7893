import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFile } from '../records/parse';
import { AliasTable } from './aliases';
import { getEmbeddings } from './embeddings';
import { buildFileIndex, deserializeFileIndex, serializeFileIndex } from './file-index';
import { Retriever, timeIntent } from './retriever';
import { stem, terms } from './tokenize';

const journal = `## 2024-01-13
Leah came over and we built the bookshelf. My sister Leah is better with an Allen key than I am.

## 2024-02-09
Dinner at Leah's flat in Hackney. We talked about Mum's birthday.

## 2024-03-01
Went to the dentist. One small filling.

## 2024-03-09
Adopted a kitten from the shelter and named her Pixel.
`;

async function retriever(): Promise<Retriever> {
  const parsed = await parseFile({
    fileId: 'f',
    name: 'j.md',
    contentType: 'text/markdown',
    text: journal,
    bytes: journal.length,
  });
  return new Retriever([buildFileIndex(parsed)]);
}

describe('tokenizer', () => {
  it('stems plurals, tenses and irregular verbs together', () => {
    assert.equal(stem('dinners'), stem('dinner'));
    assert.equal(stem('promoted'), stem('promotion'));
    assert.equal(stem('ran'), stem('running'));
    assert.deepEqual(terms("Leah's flat, the flats"), ['leah', 'flat', 'flat']);
  });
});

describe('aliases learned from the data', () => {
  it('reads "my sister Leah", "Tom, my flatmate" and "Rob (my uncle)"', () => {
    const t = new AliasTable();
    t.learn('Dinner with my sister Leah. Then Tom, my flatmate, came home. Rob (my uncle) called.');
    assert.deepEqual(t.namesFor('sister'), ['Leah']);
    assert.deepEqual(t.namesFor('sis'), ['Leah']);
    assert.deepEqual(t.namesFor('flatmate'), ['Tom']);
    assert.deepEqual(t.namesFor('uncle'), ['Rob']);
    assert.deepEqual(AliasTable.fromJSON(JSON.parse(JSON.stringify(t.toJSON()))).namesFor('sister'), [
      'Leah',
    ]);
  });
});

describe('Retriever', () => {
  it('answers "when did I last see my sister?" with the latest record about Leah', async () => {
    const r = await retriever();
    const [top] = r.search('When did I last see my sister?');
    assert.match(top.record.text, /Dinner at Leah's flat/);
    assert.deepEqual(r.expand('my sister').names, ['Leah']);
    const [first] = r.search('When did I first see my sister?');
    assert.match(first.record.text, /bookshelf/);
    assert.equal(timeIntent('When did I last go running?'), 'latest');
    assert.equal(timeIntent('What did I eat?'), null);
  });

  it('hybrid ranking finds a record that shares no word with the question; BM25 alone does not', async (t) => {
    if (!getEmbeddings()) return t.skip('the build step did not produce the word vectors');
    const r = await retriever();
    const hybrid = r.search('What pet did I get?', { mode: 'hybrid', limit: 1 });
    assert.match(hybrid[0].record.text, /kitten/);
    assert.equal(r.search('What pet did I get?', { mode: 'bm25' }).length, 0);
  });

  it('a stored index round-trips and ranks the same', async () => {
    const parsed = await parseFile({
      fileId: 'f',
      name: 'j.md',
      contentType: 'text/markdown',
      text: journal,
      bytes: journal.length,
    });
    const index = buildFileIndex(parsed);
    const back = deserializeFileIndex(serializeFileIndex(index))!;
    assert.deepEqual(back.records, index.records);
    assert.deepEqual(back.terms, index.terms);
    const a = new Retriever([index]).search('dentist filling');
    const b = new Retriever([back]).search('dentist filling');
    assert.deepEqual(
      a.map((h) => [h.index, h.score]),
      b.map((h) => [h.index, h.score]),
    );
    assert.equal(deserializeFileIndex(Buffer.from([1, 2])), null);
  });
});
