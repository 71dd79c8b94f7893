import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SealedIndexCache } from './sealed-index-cache';

const bytes = (n: number, fill = 1) => Buffer.alloc(n, fill);

describe('SealedIndexCache', () => {
  it('holds the latest version of each file, per server', () => {
    const cache = new SealedIndexCache(100);
    cache.remember('srv_a', 'fil_1', 'fil_1@1', bytes(10, 1));
    cache.remember('srv_a', 'fil_1', 'fil_1@2', bytes(10, 2));
    assert.deepEqual([...cache.holdFor('srv_a', ['fil_1']).keys()], ['fil_1@2']);
    assert.equal(cache.holdFor('srv_b', ['fil_1']).size, 0, 'another server holds nothing of it');
    assert.deepEqual(cache.size, { entries: 1, bytes: 10 });
  });

  it('gives up the least recently used past its bytes, and never keeps an oversized index', () => {
    const cache = new SealedIndexCache(30, 15);
    cache.remember('srv_a', 'fil_1', 'v1', bytes(10));
    cache.remember('srv_a', 'fil_2', 'v2', bytes(10));
    cache.holdFor('srv_a', ['fil_1']); // fil_1 is now the most recent
    cache.remember('srv_a', 'fil_3', 'v3', bytes(10));
    cache.remember('srv_a', 'fil_4', 'v4', bytes(10));
    assert.deepEqual(
      ['fil_1', 'fil_2', 'fil_3', 'fil_4'].map((f) => cache.holdFor('srv_a', [f]).size),
      [1, 0, 1, 1],
    );
    cache.remember('srv_a', 'fil_5', 'v5', bytes(16));
    assert.equal(cache.holdFor('srv_a', ['fil_5']).size, 0);
    assert.ok(cache.size.bytes <= 30);
  });
});
