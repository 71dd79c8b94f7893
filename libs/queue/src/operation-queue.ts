import { type Job, type JobsOptions, Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { RedisScript, releaseLock } from './redis-script';
import {
  JobName,
  type JobPayloads,
  type OperationEndState,
  type OperationEvent,
  type OperationEventStatus,
  operationEventsChannel,
  tenantBacklogKey,
  BACKLOG_TTL_SECONDS,
} from './jobs';

/** The one BullMQ queue of Hearth: operation runs and the purge job share it. */
export const OPERATIONS_QUEUE = 'operations';

/**
 * Retries of an operation's job. An attempt that fails on an outage (the handler throws) is retried after an
 * exponential, capped, jittered delay; a deterministic failure is thrown as BullMQ's UnrecoverableError and is
 * not. A worker that dies mid-job costs a stall, not an attempt, up to `maxStalls` (the job has not really run).
 */
export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
  backoffMaxMs: number;
  maxStalls: number;
}

/** The defaults of JOB_ATTEMPTS, JOB_BACKOFF_MS, JOB_BACKOFF_MAX_MS and JOB_MAX_STALLS (libs/config). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 10,
  backoffMs: 2000,
  backoffMaxMs: 120_000,
  maxStalls: 25,
};

/** The retry policy of the config (a structural type: libs/queue does not depend on libs/config). */
export function retryPolicyFromConfig(config: {
  JOB_ATTEMPTS: number;
  JOB_BACKOFF_MS: number;
  JOB_BACKOFF_MAX_MS: number;
  JOB_MAX_STALLS: number;
}): RetryPolicy {
  return {
    attempts: config.JOB_ATTEMPTS,
    backoffMs: config.JOB_BACKOFF_MS,
    backoffMaxMs: config.JOB_BACKOFF_MAX_MS,
    maxStalls: config.JOB_MAX_STALLS,
  };
}

/** The backoff type operation jobs carry; the consumer's strategy computes its delays (`retryDelayMs`). */
export const OPERATION_BACKOFF_TYPE = 'hearth-exponential';

/**
 * Delay before retry number `retry` (1 = the first): backoffMs doubled per retry, capped at backoffMaxMs, then
 * jittered ±25% so jobs failed by one outage do not all come back at the same instant.
 */
export function retryDelayMs(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.backoffMaxMs, policy.backoffMs * 2 ** Math.max(0, retry - 1));
  return Math.round(base * (0.75 + random() * 0.5));
}

/** Retention of every operation job; attempts, backoff, `jobId` and `priority` are added per job (`jobOptions`). */
export const OPERATION_JOB_RETENTION = {
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 24 * 3600 },
} as const satisfies JobsOptions;

/**
 * Index jobs: one per file (its id is the job id, so a repeated upload event queues it once), a few retries,
 * and the lowest priority, so indexing never delays a tenant's queued operations (they fall back to parsing).
 */
export const INDEX_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2000 },
  priority: 2 ** 21 - 1,
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 24 * 3600 },
} as const satisfies JobsOptions;

/** How often the worker's job scheduler purges expired results. */
export const PURGE_EVERY_MS = 60_000;
const PURGE_SCHEDULER_ID = 'purge-expired-results';
const RECONCILE_SCHEDULER_ID = 'reconcile-operations';

/**
 * The gateway never waits on BullMQ longer than this (BullMQ's own connection waits for Redis forever): past
 * it the call fails as QueueUnavailableError and the request answers 503.
 */
export const QUEUE_CALL_TIMEOUT_MS = 5000;

/** Redis (the queue) cannot be reached, or did not answer in time. */
export class QueueUnavailableError extends Error {
  constructor(message = 'the queue (Redis) is unavailable') {
    super(message);
    this.name = 'QueueUnavailableError';
  }
}

/**
 * True for an error that means Redis is unreachable (ioredis with its offline queue off, a closed connection,
 * retries per request used up) rather than a bug: callers answer or retry it as an outage.
 */
export function isQueueUnavailable(err: unknown): boolean {
  if (err instanceof QueueUnavailableError) return true;
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  return /Stream isn't writeable|Connection is closed|max retries per request|Redis connection/i.test(
    err.message,
  );
}

/** BullMQ priorities run from 1 (first) to 2^21. */
const MAX_PRIORITY = 2 ** 21 - 1;

const ACQUIRE_BACKLOG = new RedisScript(
  "local v = redis.call('INCR', KEYS[1]) redis.call('EXPIRE', KEYS[1], ARGV[1]) return v",
);
const RELEASE_BACKLOG = new RedisScript(
  "local v = redis.call('DECR', KEYS[1]) if v <= 0 then redis.call('DEL', KEYS[1]) end return v",
);

type AnyPayload = JobPayloads[JobName];
export type OperationJob = Job<AnyPayload>;
export type OperationJobProcessor = (job: OperationJob, token?: string) => Promise<unknown>;
type Listener = (event: OperationEvent) => void;

export interface OperationQueueOptions {
  redisUrl: string;
  /** BullMQ key prefix (QUEUE_PREFIX); also prefixes the backlog counters and status-event channels. */
  prefix: string;
  /**
   * Connection for the backlog counters and status events (e.g. the gateway's shared client, which the caller
   * closes). When omitted the queue opens its own and closes it in `close()`.
   */
  redis?: Redis;
  /** Retries of operation jobs (JOB_ATTEMPTS…); DEFAULT_RETRY_POLICY when omitted. */
  retry?: RetryPolicy;
}

/** Where an operation's job is, as the reconciler needs to know it. */
export type JobLiveness =
  /** Waiting, prioritized, delayed (a retry) or held by a worker: it will run or is running. */
  | { state: 'live' }
  /** No job under the operation's id (never enqueued, or lost with a Redis that forgot it). */
  | { state: 'missing' }
  /** The job ended without ending the operation (a handler that returned early, a crash past the commit). */
  | { state: 'completed' }
  /** BullMQ gave up on it; `exhausted` when its attempts or stalls were used up (not a deterministic failure). */
  | { state: 'failed'; exhausted: boolean };

export interface ConsumeOptions {
  concurrency: number;
  /** A job's lock (JOB_LOCK_MS); a killed worker's job is retried by another after about this. */
  lockMs: number;
  /**
   * How long `close()` waits for running jobs before it stops without them (default 60 s): BullMQ's own close
   * can wait forever after Redis restarted under it. A job left running is given back when its lock expires.
   */
  closeTimeoutMs?: number;
}

/** BullMQ connection options, from a redis:// or rediss:// URL (the operations and webhooks queues alike). */
export function bullConnection(redisUrl: string, prefix: string) {
  const url = new URL(redisUrl);
  return {
    prefix,
    connection: {
      host: url.hostname,
      port: Number(url.port || 6379),
      username: url.username || undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
      tls: url.protocol === 'rediss:' ? {} : undefined,
      // BullMQ requires it: its blocking commands must wait for Redis, not fail after a few retries.
      maxRetriesPerRequest: null,
    },
  };
}

/**
 * Operations on BullMQ, for the gateway (producer) and the worker (consumer): the queue and its options, the
 * per-tenant backlog that makes job priorities fair, and the status events event streams listen to.
 */
export class OperationQueue {
  /** The underlying BullMQ queue, for the admin dashboard and tests that inspect jobs. */
  readonly queue: Queue<AnyPayload>;
  private readonly prefix: string;
  private readonly connection: ReturnType<typeof bullConnection>;
  private readonly redis: Redis;
  private readonly ownsRedis: boolean;
  private readonly workers: Consumer[] = [];
  private subscriber?: Redis;
  private subscribed?: Promise<unknown>;
  private readonly listeners = new Map<string, Set<Listener>>();
  private closing?: Promise<void>;
  readonly retry: RetryPolicy;

  constructor(options: OperationQueueOptions) {
    this.prefix = options.prefix;
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.connection = bullConnection(options.redisUrl, options.prefix);
    this.queue = new Queue<AnyPayload>(OPERATIONS_QUEUE, this.connection);
    this.ownsRedis = !options.redis;
    this.redis = options.redis ?? new Redis(options.redisUrl, { maxRetriesPerRequest: 2 });
  }

  /**
   * Queues the operation's run. Its priority is the tenant's backlog once it is counted in, so a tenant
   * flooding the queue waits behind itself while another tenant's next job goes first. On failure the backlog
   * is given back and the error is thrown.
   */
  async enqueue(serverId: string, operationId: string): Promise<void> {
    let acquired = false;
    try {
      const backlog = await this.acquireBacklog(serverId);
      acquired = true;
      await withTimeout(
        this.queue.add(
          JobName.RunOperation,
          { operationId, serverId },
          jobOptions(operationId, backlog, this.retry),
        ),
        QUEUE_CALL_TIMEOUT_MS,
      );
    } catch (err) {
      if (acquired) await this.releaseBacklog(serverId).catch(() => undefined);
      throw err;
    }
  }

  /** Queues the indexing of a file just uploaded (ids only). */
  async enqueueIndex(serverId: string, fileId: string): Promise<void> {
    await withTimeout(
      this.queue.add(
        JobName.IndexFile,
        { serverId, fileId },
        { ...INDEX_JOB_OPTIONS, jobId: `index-${fileId}` },
      ),
      QUEUE_CALL_TIMEOUT_MS,
    );
  }

  /**
   * Takes the operation's job off the queue unless a worker holds it; true when it was taken off, and its
   * backlog is then given back here. A job a worker holds stays: the worker gives its backlog back itself.
   * BullMQ counts an id it has no job for as removed too, so call it once per operation (the gateway does,
   * after moving the operation from queued to cancelled).
   */
  async cancel(serverId: string, operationId: string): Promise<boolean> {
    const removed = await withTimeout(this.queue.remove(operationId), QUEUE_CALL_TIMEOUT_MS).catch(() => 0);
    if (removed !== 1) return false;
    await this.releaseBacklog(serverId).catch(() => undefined);
    return true;
  }

  /** One queued operation of the tenant fewer (it ran, or will never run); never below zero. */
  async releaseBacklog(serverId: string): Promise<void> {
    await RELEASE_BACKLOG.run(this.redis, [tenantBacklogKey(this.prefix, serverId)]);
  }

  /** Tells every event stream and waiting request of the operation its new status. */
  async publish(
    operationId: string,
    status: OperationEventStatus,
    outcome?: OperationEndState,
  ): Promise<void> {
    const event: OperationEvent = {
      id: operationId,
      status,
      at: new Date().toISOString(),
      ...(outcome ? { outcome } : {}),
    };
    await this.redis.publish(operationEventsChannel(this.prefix, operationId), JSON.stringify(event));
  }

  /**
   * Listens to the operation's status events. One pattern subscription per process receives every operation's
   * events and fans them out here, so after the first call a listener costs no Redis round trip; resolves once
   * that subscription is live, so a caller can read the current state afterwards without a gap. The returned
   * function unsubscribes.
   */
  async subscribe(operationId: string, listener: Listener): Promise<() => void> {
    const channel = operationEventsChannel(this.prefix, operationId);
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(listener);
    try {
      await this.eventsSubscription();
    } catch (err) {
      this.removeListener(channel, listener);
      throw err;
    }
    return () => this.removeListener(channel, listener);
  }

  private removeListener(channel: string, listener: Listener): void {
    const current = this.listeners.get(channel);
    if (!current) return;
    current.delete(listener);
    if (current.size === 0) this.listeners.delete(channel);
  }

  /** Starts consuming jobs; `close()` stops it (waiting for the running jobs). */
  consume(processor: OperationJobProcessor, options: ConsumeOptions): Worker<AnyPayload> {
    const running = new Set<Promise<unknown>>();
    const tracked: OperationJobProcessor = (job, token) => {
      const run = processor(job, token);
      running.add(run);
      run.then(
        () => running.delete(run),
        () => running.delete(run),
      );
      return run;
    };
    const worker = new Worker<AnyPayload>(OPERATIONS_QUEUE, tracked, {
      ...this.connection,
      concurrency: options.concurrency,
      // A worker killed mid-job loses its lock; the job is then retried by another worker after about
      // lockMs (the lock expires, then the next stalled check moves it back to wait).
      lockDuration: options.lockMs,
      stalledInterval: options.lockMs,
      maxStalledCount: this.retry.maxStalls,
      settings: {
        backoffStrategy: (attemptsMade: number) => retryDelayMs(attemptsMade, this.retry),
      },
    });
    this.workers.push({ worker, running, closeTimeoutMs: options.closeTimeoutMs ?? 60_000 });
    return worker;
  }

  /** Stops a consumer `consume` returned: see `stopConsumer`. */
  async stop(worker: Worker<AnyPayload>): Promise<void> {
    const consumer = this.workers.find((c) => c.worker === worker);
    if (consumer) await stopConsumer(consumer);
  }

  /** The purge of expired results, every PURGE_EVERY_MS (one scheduler however many workers upsert it). */
  async schedulePurge(): Promise<void> {
    await this.queue.upsertJobScheduler(
      PURGE_SCHEDULER_ID,
      { every: PURGE_EVERY_MS },
      { name: JobName.PurgeExpiredResults, data: {} },
    );
  }

  /** The reconciler, every `everyMs` (RECONCILE_EVERY_MS); one scheduler however many workers upsert it. */
  async scheduleReconcile(everyMs: number): Promise<void> {
    await this.queue.upsertJobScheduler(
      RECONCILE_SCHEDULER_ID,
      { every: everyMs },
      { name: JobName.ReconcileOperations, data: {}, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
  }

  /**
   * Calls `listener` each time BullMQ's connection is ready again after Redis came back (and once when it
   * first is, if it was not yet): a Redis that restarted without persistence forgot the job schedulers.
   */
  async onReconnect(listener: () => void): Promise<void> {
    const client = await this.queue.client;
    client.on('ready', listener);
  }

  /** Where the operation's job stands (its id is the operation's). */
  async jobLiveness(operationId: string): Promise<JobLiveness> {
    const job = await this.queue.getJob(operationId);
    if (!job) return { state: 'missing' };
    const state = await job.getState();
    if (state === 'unknown') return { state: 'missing' };
    if (state === 'completed') return { state: 'completed' };
    if (state === 'failed') {
      // A deterministic failure is thrown as UnrecoverableError and fails on its first attempt.
      const exhausted =
        job.attemptsMade >= (job.opts.attempts ?? 1) || job.stalledCounter > this.retry.maxStalls;
      return { state: 'failed', exhausted };
    }
    return { state: 'live' };
  }

  /**
   * Queues the operation's run again under the same job id, after removing a job of it that ended (so BullMQ
   * does not keep the old one in its place). A live job of it is never duplicated: BullMQ adds nothing under an
   * id it already has.
   */
  async requeue(serverId: string, operationId: string): Promise<void> {
    const job = await this.queue.getJob(operationId);
    if (job) {
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') await job.remove();
      else if (state !== 'unknown') return;
    }
    await this.enqueue(serverId, operationId);
  }

  /**
   * Runs `fn` only if no other process holds the lock `name` (a Redis key that expires after `ttlMs`, so a
   * holder that died frees it); false when another holds it. The lock is released only by its holder.
   */
  async exclusive(name: string, ttlMs: number, fn: () => Promise<void>): Promise<boolean> {
    const key = `${this.prefix}:lock:${name}`;
    const token = randomUUID();
    const taken = await this.redis.set(key, token, 'PX', ttlMs, 'NX');
    if (taken !== 'OK') return false;
    try {
      await fn();
    } finally {
      await releaseLock(this.redis, key, token).catch(() => undefined);
    }
    return true;
  }

  /**
   * What Redis keeps across a restart, from CONFIG GET appendonly and save: `none` means a restart forgets
   * every queued job (the reconciler re-queues them from Postgres, but that costs a delay). `unknown` when
   * CONFIG is not allowed (managed Redis).
   */
  async persistence(): Promise<'aof' | 'rdb' | 'none' | 'unknown'> {
    try {
      const aof = (await this.redis.call('CONFIG', 'GET', 'appendonly')) as string[];
      if (aof[1] === 'yes') return 'aof';
      const save = (await this.redis.call('CONFIG', 'GET', 'save')) as string[];
      return save[1] && save[1].trim() !== '' ? 'rdb' : 'none';
    } catch {
      return 'unknown';
    }
  }

  /** Consumers first, so their running jobs can still publish and release; then the connections. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(this.workers.map((c) => stopConsumer(c)));
      await this.queue.close();
      this.subscriber?.disconnect();
      if (this.ownsRedis) this.redis.disconnect();
    })();
    return this.closing;
  }

  private async acquireBacklog(serverId: string): Promise<number> {
    return Number(
      await ACQUIRE_BACKLOG.run(this.redis, [tenantBacklogKey(this.prefix, serverId)], [BACKLOG_TTL_SECONDS]),
    );
  }

  /** The process's one subscription to every operation's events, made on first use (and again after a failure). */
  private eventsSubscription(): Promise<unknown> {
    if (!this.subscribed) {
      if (!this.subscriber) {
        this.subscriber = this.redis.duplicate({ enableOfflineQueue: true });
        this.subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => {
          const set = this.listeners.get(channel);
          if (!set) return;
          let event: OperationEvent;
          try {
            event = JSON.parse(message) as OperationEvent;
          } catch {
            return;
          }
          for (const listener of set) listener(event);
        });
      }
      this.subscribed = this.subscriber
        .psubscribe(operationEventsChannel(this.prefix, '*'))
        .catch((err: unknown) => {
          this.subscribed = undefined;
          throw err;
        });
    }
    return this.subscribed;
  }
}

/** The options of one operation's job: retention, retries, its id (= the operation's) and its fair priority. */
export function jobOptions(operationId: string, backlog: number, retry: RetryPolicy): JobsOptions {
  return {
    ...OPERATION_JOB_RETENTION,
    attempts: retry.attempts,
    backoff: { type: OPERATION_BACKOFF_TYPE, delay: retry.backoffMs },
    jobId: operationId,
    priority: Math.min(Math.max(backlog, 1), MAX_PRIORITY),
  };
}

/**
 * True when BullMQ will not try the failed job again: BullMQ stamps `finishedOn` only then (attempts used up,
 * an UnrecoverableError, or stalled past the limit); a job added without options has BullMQ's one attempt.
 */
export function isFinalFailure(job: Pick<Job, 'attemptsMade' | 'opts' | 'finishedOn'>): boolean {
  return (job.finishedOn ?? 0) > 0 || job.attemptsMade >= (job.opts.attempts ?? 1);
}

interface Consumer {
  worker: Worker<AnyPayload>;
  /** Its jobs being processed now. */
  running: Set<Promise<unknown>>;
  closeTimeoutMs: number;
  stopping?: Promise<void>;
}

/**
 * Stops a consumer: it takes no new job, its running jobs get up to `closeTimeoutMs` to finish, then its
 * connections close without waiting for BullMQ's own bookkeeping (which can wait forever after Redis
 * restarted under it). A job still running then is given back when its lock expires (a stall, not an attempt).
 */
async function stopConsumer(consumer: Consumer): Promise<void> {
  const { worker, running } = consumer;
  consumer.stopping ??= (async () => {
    await worker.pause(true);
    const deadline = Date.now() + consumer.closeTimeoutMs;
    while (running.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now())))),
      ]);
      clearTimeout(timer);
    }
    await closeWorker(worker, consumer.closeTimeoutMs);
  })();
  return consumer.stopping;
}

/**
 * Closes a BullMQ worker gracefully, within `ms`: a forced close can cut the connection under a job scheduler's
 * next-iteration upsert, which BullMQ then retries with no delay while closing (a busy loop that starves the
 * process). Past `ms` (a Redis that restarted under it can make the graceful close wait forever) its connections
 * are dropped instead.
 */
export async function closeWorker(
  worker: { close(): Promise<void>; disconnect(): Promise<void> },
  ms: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    worker.close().then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(ms, 1000)))),
  ]);
  clearTimeout(timer);
  if (!closed) await worker.disconnect().catch(() => undefined);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new QueueUnavailableError(`the queue did not answer within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
