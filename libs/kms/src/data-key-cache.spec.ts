import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DataKeyCache } from './data-key-cache';

describe('DataKeyCache', () => {
  it('unwraps once per TTL, again after it, and zeroes what expired', async () => {
    let now = 1000;
    const cache = new DataKeyCache(60_000, 10, () => now);
    const wrapped = randomBytes(40);
    let unwraps = 0;
    const unwrap = () => Promise.resolve((unwraps++, randomBytes(32)));
    const first = await cache.get('srv_a', wrapped, unwrap);
    const again = await Promise.all([1, 2, 3].map(() => cache.get('srv_a', wrapped, unwrap)));
    assert.equal(unwraps, 1);
    for (const k of again) assert.equal(k, first);
    now += 60_001;
    await cache.get('srv_a', wrapped, unwrap);
    assert.equal(unwraps, 2);
    assert.ok(first.equals(Buffer.alloc(32)), 'the expired key was not zeroed');
  });

  it('shares one unwrap between concurrent misses and misses on other wrapped bytes', async () => {
    const cache = new DataKeyCache(60_000);
    let unwraps = 0;
    const unwrap = async () => {
      unwraps++;
      await new Promise((r) => setTimeout(r, 5));
      return randomBytes(32);
    };
    const wrapped = randomBytes(40);
    await Promise.all([1, 2, 3, 4].map(() => cache.get('srv_a', wrapped, unwrap)));
    assert.equal(unwraps, 1);
    await cache.get('srv_a', randomBytes(40), unwrap);
    assert.equal(unwraps, 2);
  });

  it('stays within its bound and keeps nothing with a TTL of 0', async () => {
    const bounded = new DataKeyCache(60_000, 3);
    for (let i = 0; i < 10; i++)
      await bounded.get(`srv_${i}`, randomBytes(8), () => Promise.resolve(randomBytes(32)));
    assert.equal(bounded.size, 3);
    const none = new DataKeyCache(0);
    await none.get('srv_a', randomBytes(8), () => Promise.resolve(randomBytes(32)));
    assert.equal(none.size, 0);
  });
});
