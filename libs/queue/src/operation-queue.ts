import { type Job, type JobsOptions, Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import {
  JobName,
  type JobPayloads,
  type OperationEvent,
  type OperationEventStatus,
  operationEventsChannel,
  tenantBacklogKey,
  BACKLOG_TTL_SECONDS,
} from './jobs';

/** The one BullMQ queue of Hearth: operation runs and the purge job share it. */
export const OPERATIONS_QUEUE = 'operations';

/** Retries and retention of every operation job; `jobId` and `priority` are added per job (see `jobOptions`). */
export const OPERATION_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 24 * 3600 },
} as const satisfies JobsOptions;

/** A job whose lock expired this many times (its worker died each time) is failed for good instead. */
export const MAX_STALLED_COUNT = 5;

/** How often the worker's job scheduler purges expired results. */
export const PURGE_EVERY_MS = 60_000;
const PURGE_SCHEDULER_ID = 'purge-expired-results';

/** BullMQ priorities run from 1 (first) to 2^21. */
const MAX_PRIORITY = 2 ** 21 - 1;

const ACQUIRE_BACKLOG =
  "local v = redis.call('INCR', KEYS[1]) redis.call('EXPIRE', KEYS[1], ARGV[1]) return v";
const RELEASE_BACKLOG =
  "local v = redis.call('DECR', KEYS[1]) if v <= 0 then redis.call('DEL', KEYS[1]) end return v";

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
}

export interface ConsumeOptions {
  concurrency: number;
  /** A job's lock (JOB_LOCK_MS); a killed worker's job is retried by another after about this. */
  lockMs: number;
}

/** BullMQ connection options, from a redis:// or rediss:// URL. */
function bullConnection(redisUrl: string, prefix: string) {
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
  private readonly workers: Worker<AnyPayload>[] = [];
  private subscriber?: Redis;
  private readonly listeners = new Map<string, Set<Listener>>();
  private closing?: Promise<void>;

  constructor(options: OperationQueueOptions) {
    this.prefix = options.prefix;
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
      await this.queue.add(JobName.RunOperation, { operationId, serverId }, jobOptions(operationId, backlog));
    } catch (err) {
      if (acquired) await this.releaseBacklog(serverId).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Takes the operation's job off the queue unless a worker holds it; true when it was taken off, and its
   * backlog is then given back here. A job a worker holds stays: the worker gives its backlog back itself.
   * BullMQ counts an id it has no job for as removed too, so call it once per operation (the gateway does,
   * after moving the operation from queued to cancelled).
   */
  async cancel(serverId: string, operationId: string): Promise<boolean> {
    const removed = await this.queue.remove(operationId).catch(() => 0);
    if (removed !== 1) return false;
    await this.releaseBacklog(serverId).catch(() => undefined);
    return true;
  }

  /** One queued operation of the tenant fewer (it ran, or will never run); never below zero. */
  async releaseBacklog(serverId: string): Promise<void> {
    await this.redis.eval(RELEASE_BACKLOG, 1, tenantBacklogKey(this.prefix, serverId));
  }

  /** Tells every event stream and waiting request of the operation its new status. */
  async publish(operationId: string, status: OperationEventStatus): Promise<void> {
    const event: OperationEvent = { id: operationId, status, at: new Date().toISOString() };
    await this.redis.publish(operationEventsChannel(this.prefix, operationId), JSON.stringify(event));
  }

  /**
   * Listens to the operation's status events (one Redis subscriber per process fans them out). Resolves once
   * the subscription is live, so a caller can read the current state afterwards without a gap; the returned
   * function unsubscribes.
   */
  async subscribe(operationId: string, listener: Listener): Promise<() => void> {
    const channel = operationEventsChannel(this.prefix, operationId);
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      await this.subscriberConnection().subscribe(channel);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(channel);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) {
        this.listeners.delete(channel);
        void this.subscriber?.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  /** Starts consuming jobs; `close()` stops it (waiting for the running jobs). */
  consume(processor: OperationJobProcessor, options: ConsumeOptions): Worker<AnyPayload> {
    const worker = new Worker<AnyPayload>(OPERATIONS_QUEUE, processor, {
      ...this.connection,
      concurrency: options.concurrency,
      // A worker killed mid-job loses its lock; the job is then retried by another worker after about
      // lockMs (the lock expires, then the next stalled check moves it back to wait).
      lockDuration: options.lockMs,
      stalledInterval: options.lockMs,
      maxStalledCount: MAX_STALLED_COUNT,
    });
    this.workers.push(worker);
    return worker;
  }

  /** The purge of expired results, every PURGE_EVERY_MS (one scheduler however many workers upsert it). */
  async schedulePurge(): Promise<void> {
    await this.queue.upsertJobScheduler(
      PURGE_SCHEDULER_ID,
      { every: PURGE_EVERY_MS },
      { name: JobName.PurgeExpiredResults, data: {} },
    );
  }

  /** Consumers first, so their running jobs can still publish and release; then the connections. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(this.workers.map((w) => w.close()));
      await this.queue.close();
      this.subscriber?.disconnect();
      if (this.ownsRedis) this.redis.disconnect();
    })();
    return this.closing;
  }

  private async acquireBacklog(serverId: string): Promise<number> {
    return Number(
      await this.redis.eval(ACQUIRE_BACKLOG, 1, tenantBacklogKey(this.prefix, serverId), BACKLOG_TTL_SECONDS),
    );
  }

  private subscriberConnection(): Redis {
    if (!this.subscriber) {
      this.subscriber = this.redis.duplicate({ enableOfflineQueue: true });
      this.subscriber.on('message', (channel: string, message: string) => {
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
    return this.subscriber;
  }
}

/** The options of one operation's job: the shared ones, its id (= the operation's) and its fair priority. */
function jobOptions(operationId: string, backlog: number): JobsOptions {
  return {
    ...OPERATION_JOB_OPTIONS,
    jobId: operationId,
    priority: Math.min(Math.max(backlog, 1), MAX_PRIORITY),
  };
}

/**
 * True when BullMQ will not try the failed job again: its attempts are used up (a job added without options
 * has BullMQ's one attempt; ours carry OPERATION_JOB_OPTIONS.attempts) or it stalled past MAX_STALLED_COUNT.
 */
export function isFinalFailure(job: Pick<Job, 'attemptsMade' | 'opts' | 'stalledCounter'>): boolean {
  return job.attemptsMade >= (job.opts.attempts ?? 1) || job.stalledCounter > MAX_STALLED_COUNT;
}
