import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_JOB_NAMES, assertHandlersCover, JobName } from './jobs';
import {
  DEFAULT_RETRY_POLICY,
  isFinalFailure,
  isQueueUnavailable,
  jobOptions,
  OPERATION_BACKOFF_TYPE,
  QueueUnavailableError,
  retryDelayMs,
} from './operation-queue';

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
  const job = (attemptsMade: number, attempts?: number, finishedOn?: number) => ({
    attemptsMade,
    finishedOn,
    opts: attempts === undefined ? {} : { attempts },
  });
  it('is final once the attempts the job carries are used up', () => {
    assert.equal(isFinalFailure(job(9, 10)), false);
    assert.equal(isFinalFailure(job(10, 10)), true);
    assert.equal(isFinalFailure(job(1)), true, "a job added without options has BullMQ's one attempt");
  });
  it('is final whenever BullMQ stamped the job finished (an UnrecoverableError, stalled past the limit)', () => {
    assert.equal(isFinalFailure(job(1, 10, Date.now())), true);
  });
});

describe('retry delays', () => {
  const total = (random: () => number) => {
    let sum = 0;
    for (let retry = 1; retry < DEFAULT_RETRY_POLICY.attempts; retry++)
      sum += retryDelayMs(retry, DEFAULT_RETRY_POLICY, random);
    return sum;
  };
  it('double from JOB_BACKOFF_MS up to the cap', () => {
    const mid = () => 0.5; // no jitter
    assert.deepEqual(
      [1, 2, 3, 6, 7, 8, 9].map((r) => retryDelayMs(r, DEFAULT_RETRY_POLICY, mid)),
      [2000, 4000, 8000, 64_000, 120_000, 120_000, 120_000],
    );
  });
  it('spread the default attempts over at least five minutes, whatever the jitter draws', () => {
    const low = total(() => 0);
    const high = total(() => 0.999);
    assert.ok(low >= 5 * 60_000, `the shortest span is ${low} ms`);
    assert.ok(high <= 15 * 60_000, `the longest span is ${high} ms`);
    assert.notEqual(
      retryDelayMs(3, DEFAULT_RETRY_POLICY, () => 0),
      retryDelayMs(3, DEFAULT_RETRY_POLICY, () => 0.9),
    );
  });
  it('operation jobs carry the policy and the consumer-side backoff type', () => {
    const opts = jobOptions('op_1', 3, { ...DEFAULT_RETRY_POLICY, attempts: 7, backoffMs: 50 });
    assert.equal(opts.jobId, 'op_1');
    assert.equal(opts.priority, 3);
    assert.equal(opts.attempts, 7);
    assert.deepEqual(opts.backoff, { type: OPERATION_BACKOFF_TYPE, delay: 50 });
  });
});

describe('isQueueUnavailable', () => {
  it("knows ioredis' outage errors and ours, not others", () => {
    assert.equal(isQueueUnavailable(new QueueUnavailableError()), true);
    assert.equal(
      isQueueUnavailable(new Error("Stream isn't writeable and enableOfflineQueue options is false")),
      true,
    );
    assert.equal(isQueueUnavailable(new Error('Connection is closed.')), true);
    const maxRetries = new Error('Reached the max retries per request limit (which is 2).');
    maxRetries.name = 'MaxRetriesPerRequestError';
    assert.equal(isQueueUnavailable(maxRetries), true);
    assert.equal(isQueueUnavailable(new Error('ERR syntax error')), false);
    assert.equal(isQueueUnavailable('nope'), false);
  });
});
