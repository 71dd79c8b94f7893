import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_JOB_NAMES, assertHandlersCover, JobName } from './index';

describe('job names', () => {
  it('accepts a handler set covering every job', () => {
    assert.doesNotThrow(() => assertHandlersCover(ALL_JOB_NAMES));
  });
  it('refuses to start with a job left unhandled or an unknown one', () => {
    assert.throws(() => assertHandlersCover([JobName.RunOperation]), /purge-expired-results/);
    assert.throws(() => assertHandlersCover([...ALL_JOB_NAMES, 'mystery']), /mystery/);
  });
});
