import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobScope } from './job-scope';

describe('JobScope', () => {
  it('zero-fills tracked buffers and typed-array views when the job ends', () => {
    const scope = new JobScope();
    const key = scope.track(Buffer.alloc(32, 0xab));
    const backing = new Uint8Array(16).fill(7);
    scope.track(new Uint32Array(backing.buffer, 4, 2));
    assert.equal(key[0], 0xab);
    scope.end();
    assert.ok(key.every((b) => b === 0));
    // Only the view's own bytes are wiped, not its neighbours.
    assert.deepEqual([...backing], [7, 7, 7, 7, 0, 0, 0, 0, 0, 0, 0, 0, 7, 7, 7, 7]);
  });

  it('finds buffers nested in arrays, objects, maps and sets', () => {
    const scope = new JobScope();
    const a = Buffer.from('alpha');
    const b = new Uint8Array([1, 2, 3]);
    const c = Buffer.from('gamma');
    const d = Buffer.from('delta');
    scope.trackAll({ files: [{ data: a }], m: new Map([['k', b]]), s: new Set([c]), deep: { x: { y: d } } });
    scope.end();
    for (const v of [a, b, c, d]) assert.ok(v.every((x) => x === 0));
  });

  it('runs deferred cleanups after wiping, even when one throws, and only once', () => {
    const scope = new JobScope();
    const key = scope.track(Buffer.alloc(4, 1));
    const seen: string[] = [];
    scope.defer(() => {
      seen.push(`first:${key[0]}`);
      throw new Error('boom');
    });
    scope.defer(() => seen.push('second'));
    scope.end();
    scope.end();
    assert.deepEqual(seen, ['first:0', 'second']);
    assert.equal(scope.isEnded, true);
  });

  it('wipes at once what is tracked after the job ended', () => {
    const scope = new JobScope();
    scope.end();
    const late = scope.track(Buffer.alloc(8, 9));
    assert.ok(late.every((b) => b === 0));
  });
});
