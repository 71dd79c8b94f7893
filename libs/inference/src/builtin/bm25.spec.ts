import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Bm25Index } from './bm25';

describe('Bm25Index', () => {
  const docs = [
    ['cat', 'sat', 'mat'],
    ['dog', 'chased', 'cat', 'cat'],
    ['bird', 'sang', 'tree', 'morning', 'long', 'long', 'song'],
    ['dog', 'barked'],
  ];
  const index = new Bm25Index(docs);

  it('ranks the document with more occurrences of a rarer term first', () => {
    const hits = index.search(['cat'], 10);
    assert.deepEqual(
      hits.map((h) => h.index),
      [1, 0],
    );
    assert.ok(hits[0].score > hits[1].score);
  });

  it('sums over query terms and gives rare terms more weight', () => {
    const hits = index.search(['dog', 'bird'], 10);
    assert.equal(hits[0].index, 2, 'bird occurs once in the collection, dog twice');
    assert.equal(hits.length, 3);
  });

  it('returns nothing for unknown terms and honours k', () => {
    assert.deepEqual(index.search(['zebra'], 5), []);
    assert.equal(index.search(['cat', 'dog'], 1).length, 1);
  });
});
