import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_JOB_NAMES, assertHandlersCover, JobName } from './jobs';
import { isFinalFailure, MAX_STALLED_COUNT, OPERATION_JOB_OPTIONS } from './operation-queue';

describe('job names', () => {
  it('accepts a handler set covering every job', () => {
    assert.doesNotThrow(() => assertHandlersCover(ALL_JOB_NAMES));
  });
  it('refuses to start with a job left unhandled or an unknown one', () => {
    assert.throws(() => assertHandlersCover([JobName.RunOperation]), /purge-expired-results/);
    assert.throws(() => assertHandlersCover([...ALL_JOB_NAMES, 'mystery']), /mystery/);
  });
});

describe('isFinalFailure', () => {
  const job = (attemptsMade: number, stalledCounter = 0, attempts?: number) => ({
    attemptsMade,
    stalledCounter,
    opts: attempts === undefined ? {} : { attempts },
  });
  it('is final once the attempts the job carries are used up', () => {
    const attempts = OPERATION_JOB_OPTIONS.attempts;
    assert.equal(isFinalFailure(job(attempts - 1, 0, attempts)), false);
    assert.equal(isFinalFailure(job(attempts, 0, attempts)), true);
    assert.equal(isFinalFailure(job(1)), true, "a job added without options has BullMQ's one attempt");
  });
  it('is final once the job stalled more often than the consumer allows', () => {
    assert.equal(isFinalFailure(job(0, MAX_STALLED_COUNT, 3)), false);
    assert.equal(isFinalFailure(job(0, MAX_STALLED_COUNT + 1, 3)), true);
  });
});
