import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { type Job, UnrecoverableError } from 'bullmq';
import Redis from 'ioredis';
import {
  BACKLOG_TTL_SECONDS,
  DEFAULT_RETRY_POLICY,
  isFinalFailure,
  JobName,
  OPERATION_BACKOFF_TYPE,
  type OperationEvent,
  type RetryPolicy,
  OperationQueue,
  tenantBacklogKey,
} from './index';

// why: a test of the queue against the run's real Redis; the test runner hands both over in the environment.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUN_PREFIX = process.env.QUEUE_PREFIX ?? 'hearth-test';

describe('OperationQueue', () => {
  const redis = new Redis(REDIS_URL);
  const made: { queue: OperationQueue; prefix: string; shared?: Redis }[] = [];

  /** A queue under a prefix of its own, so tests never see each other's jobs, counters or events. */
  function newQueue(options: { shared?: boolean; retry?: RetryPolicy } = {}): {
    queue: OperationQueue;
    prefix: string;
  } {
    const prefix = `${RUN_PREFIX}-oq-${randomUUID()}`;
    const shared = options.shared ? redis.duplicate() : undefined;
    const queue = new OperationQueue({ redisUrl: REDIS_URL, prefix, redis: shared, retry: options.retry });
    made.push({ queue, prefix, shared });
    return { queue, prefix };
  }

  const backlog = async (prefix: string, serverId: string): Promise<number | null> => {
    const value = await redis.get(tenantBacklogKey(prefix, serverId));
    return value === null ? null : Number(value);
  };

  afterEach(async () => {
    for (const { queue, prefix, shared } of made.splice(0)) {
      await queue.close();
      shared?.disconnect(); // a caller's connection stays the caller's to close
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  });
  after(() => redis.disconnect());

  it('enqueues a job named after the operation, prioritised by its tenant backlog', async () => {
    const { queue, prefix } = newQueue();
    await queue.enqueue('srv_flood', 'op_a');
    await queue.enqueue('srv_flood', 'op_b');
    await queue.enqueue('srv_quiet', 'op_c');

    const job = await queue.queue.getJob('op_b');
    assert.ok(job);
    assert.equal(job.name, JobName.RunOperation);
    assert.deepEqual(job.data, { operationId: 'op_b', serverId: 'srv_flood' });
    assert.equal(job.opts.priority, 2, 'the second queued job of its tenant');
    assert.equal(job.opts.attempts, DEFAULT_RETRY_POLICY.attempts);
    assert.deepEqual(job.opts.backoff, {
      type: OPERATION_BACKOFF_TYPE,
      delay: DEFAULT_RETRY_POLICY.backoffMs,
    });
    assert.equal(
      (await queue.queue.getJob('op_c'))?.opts.priority,
      1,
      "another tenant's first job goes first",
    );

    assert.equal(await backlog(prefix, 'srv_flood'), 2);
    assert.equal(await backlog(prefix, 'srv_quiet'), 1);
    const ttl = await redis.ttl(tenantBacklogKey(prefix, 'srv_flood'));
    assert.ok(ttl > 0 && ttl <= BACKLOG_TTL_SECONDS, 'a drifted counter expires');
  });

  it('a failed enqueue gives the backlog back and throws', async () => {
    const { queue, prefix } = newQueue({ shared: true });
    await queue.enqueue('srv_a', 'op_kept');
    await queue.queue.close(); // BullMQ's connection is gone; the counters' connection is not
    await assert.rejects(queue.enqueue('srv_a', 'op_lost'));
    assert.equal(await backlog(prefix, 'srv_a'), 1);
  });

  it('cancel removes a waiting job and gives its backlog back', async () => {
    const { queue, prefix } = newQueue();
    await queue.enqueue('srv_a', 'op_1');
    await queue.enqueue('srv_a', 'op_2');
    assert.equal(await queue.cancel('srv_a', 'op_1'), true);
    assert.equal(await queue.queue.getJob('op_1'), undefined);
    assert.equal(await backlog(prefix, 'srv_a'), 1);
    assert.ok(await queue.queue.getJob('op_2'), 'the other job stays');
  });

  it('cancel leaves a job a worker holds: the worker gives its backlog back', async () => {
    const { queue, prefix } = newQueue();
    let finish!: () => void;
    const held = new Promise<void>((resolve) => (finish = resolve));
    const worker = queue.consume(() => held, { concurrency: 1, lockMs: 30_000 });
    const active = once(worker, 'active');
    await queue.enqueue('srv_a', 'op_running');
    await active;
    assert.equal(await queue.cancel('srv_a', 'op_running'), false);
    assert.equal(await backlog(prefix, 'srv_a'), 1);
    const completed = once(worker, 'completed');
    finish();
    await completed;
    await queue.releaseBacklog('srv_a');
    assert.equal(await backlog(prefix, 'srv_a'), null, 'at zero the counter is gone');
  });

  it('releaseBacklog never goes below zero', async () => {
    const { queue, prefix } = newQueue();
    await queue.releaseBacklog('srv_idle');
    await queue.releaseBacklog('srv_idle');
    assert.equal(await backlog(prefix, 'srv_idle'), null);
    await queue.enqueue('srv_idle', 'op_1');
    assert.equal(await backlog(prefix, 'srv_idle'), 1, 'priority starts again from the first job');
  });

  it("publishes status events to the operation's subscribers only, until they unsubscribe", async () => {
    const { queue } = newQueue();
    const { queue: other } = newQueue();
    const seen: OperationEvent[] = [];
    const seenToo: string[] = [];
    const unsubscribe = await queue.subscribe('op_1', (e) => seen.push(e));
    const unsubscribeToo = await queue.subscribe('op_1', (e) => seenToo.push(e.status));
    const strangers: string[] = [];
    await queue.subscribe('op_2', (e) => strangers.push(e.status));

    let next = new Promise<void>((resolve) => void queue.subscribe('op_1', () => resolve()));
    await queue.publish('op_1', 'running');
    await next;
    assert.equal(seen.length, 1);
    assert.equal(seen[0].id, 'op_1');
    assert.equal(seen[0].status, 'running');
    assert.ok(!Number.isNaN(Date.parse(seen[0].at)));
    assert.deepEqual(seenToo, ['running']);

    unsubscribe();
    next = new Promise<void>((resolve) => void queue.subscribe('op_1', () => resolve()));
    await queue.publish('op_1', 'succeeded');
    await next;
    assert.equal(seen.length, 1, 'an unsubscribed listener hears nothing more');
    assert.deepEqual(seenToo, ['running', 'succeeded']);
    unsubscribeToo();
    assert.deepEqual(strangers, []);

    // Another process's queue under another prefix shares nothing.
    const elsewhere: string[] = [];
    await other.subscribe('op_1', (e) => elsewhere.push(e.status));
    next = new Promise<void>((resolve) => void queue.subscribe('op_1', () => resolve()));
    await queue.publish('op_1', 'failed');
    await next;
    assert.deepEqual(elsewhere, []);
  });

  const fastRetry: RetryPolicy = { attempts: 3, backoffMs: 10, backoffMaxMs: 20, maxStalls: 2 };

  it('a failing job is retried after a backoff and final only once its attempts are used up', async () => {
    const { queue } = newQueue({ retry: fastRetry });
    const worker = queue.consume(
      () => {
        throw new Error('boom');
      },
      { concurrency: 1, lockMs: 30_000 },
    );
    const finals: boolean[] = [];
    const done = new Promise<void>((resolve) =>
      worker.on('failed', (job?: Job) => {
        if (!job) return;
        finals.push(isFinalFailure(job));
        if (finals.length === fastRetry.attempts) resolve();
      }),
    );
    await queue.enqueue('srv_a', 'op_fails');
    await done;
    assert.deepEqual(finals, [false, false, true]);
    assert.deepEqual(await queue.jobLiveness('op_fails'), { state: 'failed', exhausted: true });
  });

  it('an UnrecoverableError fails the job at once, final, not counted as exhausted', async () => {
    const { queue } = newQueue({ retry: fastRetry });
    let runs = 0;
    const worker = queue.consume(
      () => {
        runs++;
        throw new UnrecoverableError('bad input');
      },
      { concurrency: 1, lockMs: 30_000 },
    );
    const failed = new Promise<Job>((resolve) => worker.on('failed', (job?: Job) => job && resolve(job)));
    await queue.enqueue('srv_a', 'op_bad');
    assert.equal(isFinalFailure(await failed), true);
    assert.equal(runs, 1);
    assert.deepEqual(await queue.jobLiveness('op_bad'), { state: 'failed', exhausted: false });
  });

  it('tells a live job from a missing or completed one', async () => {
    const { queue } = newQueue();
    assert.deepEqual(await queue.jobLiveness('op_none'), { state: 'missing' });
    await queue.enqueue('srv_a', 'op_waiting');
    assert.deepEqual(await queue.jobLiveness('op_waiting'), { state: 'live' });
    const worker = queue.consume(() => Promise.resolve('ok'), { concurrency: 1, lockMs: 30_000 });
    await once(worker, 'completed');
    assert.deepEqual(await queue.jobLiveness('op_waiting'), { state: 'completed' });
  });

  it('requeue adds a lost job under the same id, replaces an ended one, never duplicates a live one', async () => {
    const { queue } = newQueue();
    await queue.requeue('srv_a', 'op_lost');
    assert.deepEqual(await queue.jobLiveness('op_lost'), { state: 'live' });
    await queue.requeue('srv_a', 'op_lost');
    const open = await queue.queue.getJobs(['wait', 'prioritized', 'delayed', 'active']);
    assert.deepEqual(
      open.map((j) => j.id),
      ['op_lost'],
      'one job, under the operation id',
    );
    let runs = 0;
    const worker = queue.consume(
      () => {
        runs++;
        return Promise.resolve();
      },
      { concurrency: 1, lockMs: 30_000 },
    );
    await once(worker, 'completed');
    await queue.requeue('srv_a', 'op_lost');
    await once(worker, 'completed');
    assert.equal(runs, 2, 'the ended job was replaced and ran again');
  });

  it('exclusive runs one holder at a time and frees the lock after', async () => {
    const { queue } = newQueue();
    const { queue: other } = newQueue();
    let inner: boolean | undefined;
    const ran = await queue.exclusive('x', 10_000, async () => {
      // While it is held, any other run (of any process: the lock is a Redis key) is refused.
      inner = await queue.exclusive('x', 10_000, () => Promise.resolve());
    });
    assert.equal(ran, true);
    assert.equal(inner, false);
    assert.equal(await queue.exclusive('x', 10_000, () => Promise.resolve()), true, 'released after');
    assert.equal(await other.exclusive('x', 10_000, () => Promise.resolve()), true, 'per prefix');
  });

  it('reports what the Redis it is given persists', async () => {
    const { queue } = newQueue();
    const aof = (await redis.call('CONFIG', 'GET', 'appendonly')) as string[];
    const save = (await redis.call('CONFIG', 'GET', 'save')) as string[];
    const expected = aof[1] === 'yes' ? 'aof' : save[1]?.trim() ? 'rdb' : 'none';
    assert.equal(await queue.persistence(), expected);
  });

  it('schedules one purge job and one reconciler however often it is asked to', async () => {
    const { queue } = newQueue();
    await queue.schedulePurge();
    await queue.schedulePurge();
    await queue.scheduleReconcile(15_000);
    await queue.scheduleReconcile(15_000);
    const schedulers = await queue.queue.getJobSchedulers();
    assert.deepEqual(schedulers.map((s) => s.name).sort(), [
      JobName.PurgeExpiredResults,
      JobName.ReconcileOperations,
    ]);
  });
});
