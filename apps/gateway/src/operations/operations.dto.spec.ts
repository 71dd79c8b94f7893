import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PREFER_WAIT_SECONDS, preferredWaitSeconds } from './operations.dto';

describe('Prefer: wait', () => {
  it('reads wait=N among other preferences, caps it, and ignores what it cannot read', () => {
    assert.equal(preferredWaitSeconds('wait=10'), 10);
    assert.equal(preferredWaitSeconds('return=representation, wait=5'), 5);
    assert.equal(preferredWaitSeconds('respond-async; wait="7"'), 7);
    assert.equal(preferredWaitSeconds('WAIT=3'), 3);
    assert.equal(preferredWaitSeconds('wait=999999'), MAX_PREFER_WAIT_SECONDS);
    for (const ignored of [
      undefined,
      '',
      'wait',
      'wait=',
      'wait=-1',
      'wait=1.5',
      'wait=ten',
      'nowait=5',
      'await=5',
    ])
      assert.equal(preferredWaitSeconds(ignored), 0, String(ignored));
  });
});
