import { OperationErrorCode } from '@hearth/errors';
import { Inject, Injectable } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import {
  CollectiveDataRepository,
  type CollectiveFinish,
  FileIndexRepository,
  FileRepository,
  isDatabaseUnavailable,
  outcomeWithoutResult,
  OperationRepository,
  type OperationEntity,
  type OperationOutcome,
} from '@hearth/db';
import {
  inferenceOptionsFromConfig,
  listCatalog,
  usesRecords,
  type InferenceOptions,
} from '@hearth/inference';
import { serverPolicy } from '@hearth/permissions';
import {
  isQueueUnavailable,
  JobName,
  MAX_EVENT_RESULT_BYTES,
  type OperationEndState,
  OperationQueue,
  type RunOperationPayload,
} from '@hearth/queue';
import { type Job, UnrecoverableError } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { getAddress } from 'viem';
import { isIsolationError, type IsolationError } from '../isolation';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { OperationBroker } from '../pipeline/broker';
import type { OperationTaskInput, OperationTaskOutput, TaskFile } from '../pipeline/operation-task.types';
import { giveUpCode } from './give-up';
import type { JobHandler } from './job-handler';
import { SealedIndexCache } from './sealed-index-cache';

/** Why the parent refuses before any child runs (see `refusal`); a collective's refusal records its file set. */
type Refusal = (
  | { tooLarge: { bytes: number; limit: number } }
  | { missing: string }
  | { notAggregate: true }
  | { refused: OperationErrorCode; detail: string }
) & { collective?: CollectiveFinish };

/**
 * Outcomes that mean a dependency was down, not that the operation is wrong: the attempt is retried (with
 * backoff) and only the last attempt records them.
 */
const TRANSIENT_OUTCOMES: ReadonlySet<string> = new Set([
  OperationErrorCode.kms_unavailable,
  OperationErrorCode.chain_unavailable,
  OperationErrorCode.engine_unavailable,
]);

const SANDBOX_LIMITS = ['job_timeout', 'memory_exceeded', 'cpu_exceeded'] as const;
type SandboxLimitCode = (typeof SANDBOX_LIMITS)[number];

function isSandboxLimit(code: IsolationError['code']): code is SandboxLimitCode {
  return (SANDBOX_LIMITS as readonly string[]).includes(code);
}

/**
 * A sandbox that ran into a limit ends its operation `failed` at once: the same input would meet it again.
 * Exported for its unit test.
 */
export function limitOutcome(limit: SandboxLimitCode): OperationOutcome {
  switch (limit) {
    case 'job_timeout':
      return outcomeWithoutResult(
        OperationErrorCode.timeout,
        'the operation ran past its time limit',
        'failed',
      );
    case 'cpu_exceeded':
      return outcomeWithoutResult(
        OperationErrorCode.sandbox_time_exceeded,
        'the operation used more CPU time than its sandbox allows',
        'failed',
      );
    case 'memory_exceeded':
      return outcomeWithoutResult(
        OperationErrorCode.sandbox_memory_exceeded,
        'the operation needed more memory than its sandbox allows',
        'failed',
      );
  }
}

/** Isolation failures no retry can fix: the job's input itself is refused. */
const DETERMINISTIC_ISOLATION = new Set(['invalid_input', 'unknown_task']);

/** A give-up that cannot commit (Postgres down) is tried this often, backing off, before the reconciler owns it. */
const GIVE_UP_TRIES = 8;
const GIVE_UP_MAX_DELAY_MS = 30_000;

/** An attempt that failed on an outage; BullMQ retries it after its backoff. */
class TransientOutcomeError extends Error {
  constructor(code: string) {
    super(`attempt ended ${code}; retrying`);
    this.name = 'TransientOutcomeError';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sealed record indexes a worker keeps between operations (see SealedIndexCache). */
const SEALED_INDEX_CACHE_BYTES = 64 * 1024 * 1024;

const ms = (start: number) => Math.round((performance.now() - start) * 100) / 100;

/** The child's steps as `<step>Ms`, and what the child round trip cost beyond them. */
function childStepTimings(out: OperationTaskOutput, childMs: number): Record<string, number> {
  const steps: Partial<Record<string, number>> = { ...out.timings };
  const childSteps = Object.values(steps).reduce<number>((a, b) => a + (b ?? 0), 0);
  return {
    ...Object.fromEntries(Object.entries(steps).map(([k, v]) => [`${k}Ms`, v ?? 0])),
    childOverheadMs: Math.max(0, Math.round((childMs - childSteps) * 100) / 100),
  };
}

/**
 * The parent side of an operation: claim it, load ids and ciphertext, hand them to the broker (which checks the
 * grant, unwraps the job's keys, has a sandbox decrypt, infer and seal, and signs), then record the outcome
 * exactly once.
 */
@Injectable()
export class RunOperationHandler implements JobHandler<JobName.RunOperation> {
  readonly name = JobName.RunOperation;
  private readonly inference: InferenceOptions;
  /** The only operations a collective may run. */
  private readonly aggregateOperations: Set<string>;
  /** Each operation's `limits.maxInputBytes`: checked on recorded sizes before any file is loaded. */
  private readonly maxInputBytes: Map<string, number>;
  private readonly sealedIndexes = new SealedIndexCache(SEALED_INDEX_CACHE_BYTES);

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    private readonly files: FileRepository,
    private readonly fileIndexes: FileIndexRepository,
    private readonly operations: OperationRepository,
    private readonly collectives: CollectiveDataRepository,
    private readonly broker: OperationBroker,
    private readonly queue: OperationQueue,
    private readonly logger: PinoLogger,
    private readonly metrics: WorkerMetrics,
  ) {
    this.inference = inferenceOptionsFromConfig(config);
    this.aggregateOperations = new Set(
      listCatalog(this.inference)
        .filter((o) => o.aggregate)
        .map((o) => o.name),
    );
    this.maxInputBytes = new Map(listCatalog(this.inference).map((o) => [o.name, o.limits.maxInputBytes]));
  }

  /**
   * One attempt. What throws decides the retry: an outage (Postgres, Redis, a crashed child, an unexpected task
   * error) is thrown as is and BullMQ retries it with backoff; a failure no retry can fix is thrown as
   * UnrecoverableError and fails the job at once.
   */
  async handle(job: Job<RunOperationPayload>): Promise<unknown> {
    try {
      return await this.attempt(job);
    } catch (err) {
      if (err instanceof UnrecoverableError || isDatabaseUnavailable(err) || isQueueUnavailable(err))
        throw err;
      if (isIsolationError(err) && DETERMINISTIC_ISOLATION.has(err.code))
        throw new UnrecoverableError(err.message);
      throw err;
    }
  }

  private async attempt(job: Job<RunOperationPayload>): Promise<unknown> {
    const { operationId, serverId } = job.data;
    const log = this.logger.logger.child({ jobId: job.id, tenantId: serverId, operationId });
    const started = performance.now();
    const queueWaitMs = Math.max(0, Date.now() - job.timestamp);
    const op = await this.operations.claim(serverId, operationId);
    if (!op) {
      // Already finished (a retry after a crash past the commit) or cancelled: nothing to do, exactly once.
      await this.queue.releaseBacklog(serverId);
      return { skipped: true };
    }
    const loadStart = performance.now();
    // The status event and the load do not depend on each other: one round trip's wait instead of two.
    const [, input] = await Promise.all([this.queue.publish(op.id, 'running'), this.buildInput(op)]);
    const parentTimings = { queueWaitMs, loadMs: ms(loadStart) };
    if (!('input' in input)) {
      return this.record(op, this.refusal(op, input), parentTimings, log, input.collective);
    }
    const { collective } = input;
    const childStart = performance.now();
    const out = await this.runInChild(input.input, log);
    if ('limit' in out) return this.record(op, limitOutcome(out.limit), parentTimings, log, collective);
    const childMs = ms(childStart);
    if (out.outcome !== 'succeeded' && TRANSIENT_OUTCOMES.has(out.code) && !this.lastAttempt(job)) {
      log.warn(
        { code: out.code, attempt: job.attemptsMade + 1 },
        'operation attempt met an outage; retrying',
      );
      throw new TransientOutcomeError(out.code);
    }
    const timings = {
      ...parentTimings,
      ...childStepTimings(out, childMs),
      totalWorkerMs: ms(started),
    };
    return this.record(op, this.outcome(out, timings, childMs), timings, log, collective);
  }

  /**
   * What the parent refuses before any child runs: more input than the operation takes (nothing was loaded), a
   * file gone since the request, a per-person operation on a collective, a collective's aggregate over files it
   * picked, or an app whose privacy budget cannot pay for one more. Each is deterministic: recorded, never retried.
   */
  private refusal(op: OperationEntity, input: Refusal): OperationOutcome {
    if ('tooLarge' in input) {
      const { bytes, limit } = input.tooLarge;
      const detail = `the files add up to ${bytes} bytes; ${op.operation} takes at most ${limit}`;
      return this.failure(OperationErrorCode.input_too_large, detail);
    }
    if ('missing' in input)
      return this.failure(OperationErrorCode.file_not_found, `file ${input.missing} no longer exists`);
    if ('refused' in input) return this.failure(input.refused, input.detail, 'denied');
    // A collective releases aggregate results only; enforced here again whatever the gateway let through.
    const detail = `${op.operation} is not an aggregate operation; collectives run aggregate operations only`;
    return this.failure(OperationErrorCode.operation_not_allowed, detail, 'denied');
  }

  /**
   * The files' current stored indexes, sealed. Copies this worker holds are confirmed current by the same query
   * that would send them, which then sends only the others.
   */
  private async readIndexes(
    serverId: string,
    fileIds: readonly string[],
  ): Promise<Map<string, { ciphertextSha256: string; sealedIndex: Buffer }>> {
    const held = this.sealedIndexes.holdFor(serverId, fileIds);
    const rows = await this.fileIndexes.readyFor(serverId, fileIds, [...held.keys()]);
    const out = new Map<string, { ciphertextSha256: string; sealedIndex: Buffer }>();
    for (const [fileId, row] of rows) {
      const sealedIndex = row.sealedIndex ?? held.get(row.version);
      if (!sealedIndex) continue; // why: unsent rows are held ones; without either the child parses the file
      if (row.sealedIndex) this.sealedIndexes.remember(serverId, fileId, row.version, row.sealedIndex);
      out.set(fileId, { ciphertextSha256: row.ciphertextSha256, sealedIndex });
    }
    return out;
  }

  /** The broker's and the sandbox's work; `limit` when the sandbox ran into one of its limits (it was ended). */
  private async runInChild(
    input: OperationTaskInput,
    log: PinoLogger['logger'],
  ): Promise<OperationTaskOutput | { limit: SandboxLimitCode }> {
    try {
      return await this.broker.run(input);
    } catch (err) {
      if (isIsolationError(err) && isSandboxLimit(err.code)) return { limit: err.code };
      // A crashed child or an unexpected task error: BullMQ retries the job; the operation stays running.
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'operation attempt failed');
      throw err;
    }
  }

  /** The outcome to commit for what the child answered. */
  private outcome(
    out: OperationTaskOutput,
    timings: Record<string, number>,
    childMs: number,
  ): OperationOutcome {
    if (out.outcome !== 'succeeded') {
      return {
        ...this.failure(out.code, out.detail, out.outcome),
        blockNumber: out.blockNumber,
        timings,
        computeMs: childMs,
      };
    }
    return {
      status: 'succeeded',
      errorCode: null,
      errorDetail: null,
      resultCiphertext: out.resultCiphertext,
      resultWrappedKey: out.resultWrappedKey,
      resultExpiresAt: new Date(Date.now() + this.config.RESULT_TTL_SECONDS * 1000),
      receipt: out.receipt as unknown as Record<string, unknown>,
      receiptHash: out.receiptHash,
      blockNumber: out.blockNumber,
      timings,
      computeMs: childMs,
      inputBytes: out.inputBytes,
      decrypted: true,
    };
  }

  /** True on the job's last attempt: BullMQ will not retry it if this one fails too. */
  private lastAttempt(job: Job<RunOperationPayload>): boolean {
    return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  }

  /**
   * BullMQ gave up on the job: the operation ends `failed` (with its access-log row), once. Retried with
   * backoff until it commits (the outage that failed the job may still be on); if it never does, the
   * reconciler finds the failed job and ends the operation later.
   */
  async giveUp(job: Job<RunOperationPayload>, err: Error | undefined): Promise<void> {
    const { operationId, serverId } = job.data;
    const { code, detail } = giveUpCode(err);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.end(serverId, operationId, code, detail);
        return;
      } catch (failure) {
        if (attempt >= GIVE_UP_TRIES) throw failure;
        await sleep(Math.min(GIVE_UP_MAX_DELAY_MS, 250 * 2 ** attempt));
      }
    }
  }

  /**
   * Ends a queued or running operation `failed` with `code`, once (false: it had ended already); publishes
   * its status and gives its place in the tenant's backlog back when it did end it here.
   */
  async end(
    serverId: string,
    operationId: string,
    code: OperationErrorCode,
    detail: string,
  ): Promise<boolean> {
    const committed = await this.operations.abandon(serverId, operationId, code, detail);
    if (committed) {
      this.logger.logger.warn({ tenantId: serverId, operationId, code }, 'operation ended by the queue');
      await this.queue.publish(operationId, 'failed').catch(() => undefined);
      await this.queue.releaseBacklog(serverId).catch(() => undefined);
    }
    return committed;
  }

  private failure(
    code: OperationErrorCode,
    detail: string,
    status: 'failed' | 'denied' = 'failed',
  ): OperationOutcome {
    return outcomeWithoutResult(code, detail, status);
  }

  private async record(
    op: OperationEntity,
    outcome: OperationOutcome,
    timings: Record<string, number>,
    log: PinoLogger['logger'],
    collective?: CollectiveFinish,
  ): Promise<{ status: string }> {
    const storeStart = performance.now();
    const final = { ...outcome, timings: { ...outcome.timings, ...timings } };
    let committed: boolean;
    let ended: OperationEndState | undefined;
    if (!collective) {
      const finishedAt = await this.operations.finish(op.serverId, op, final);
      committed = finishedAt !== null;
      if (finishedAt) ended = endState(op, final, finishedAt);
    } else {
      const done = await this.operations.finishCollective(op.serverId, op, final, collective);
      if (done === 'exhausted') {
        // The spend lost a race with another of the app's operations: nothing is released, nothing spent.
        outcome = this.failure(
          OperationErrorCode.privacy_budget_exhausted,
          "the app's privacy budget on this collective is spent",
          'denied',
        );
        const denied = await this.operations.finishCollective(
          op.serverId,
          op,
          { ...outcome, timings: final.timings },
          { fileIds: collective.fileIds },
        );
        committed = denied === 'finished';
      } else {
        committed = done === 'finished';
      }
    }
    const storeMs = ms(storeStart);
    if (committed) {
      this.metrics.observe(op.operation, outcome.status, { ...outcome.timings, ...timings, storeMs });
      await this.queue.publish(op.id, outcome.status, ended);
    }
    // Fairness bookkeeping: the tenant's backlog shrinks once per job.
    await this.queue.releaseBacklog(op.serverId);
    log.info({ status: outcome.status, code: outcome.errorCode, committed, storeMs }, 'operation finished');
    return { status: outcome.status };
  }

  private async buildInput(
    op: OperationEntity,
  ): Promise<{ input: OperationTaskInput; collective?: CollectiveFinish } | Refusal> {
    const limit = this.maxInputBytes.get(op.operation) ?? Number.MAX_SAFE_INTEGER;
    let loaded = await this.operations.loadRunInput(op.serverId, op.fileIds, limit);
    if (!loaded) throw new UnrecoverableError(`server ${op.serverId} of operation ${op.id} not found`);
    if (loaded.inputBytes > limit) return { tooLarge: { bytes: loaded.inputBytes, limit } };
    const { server } = loaded;
    let fileIds = op.fileIds;
    let collective: CollectiveFinish | undefined;
    let privacy: OperationTaskInput['privacy'] = null;
    let permission: OperationTaskInput['permission'] = { fileIds, requireAllFiles: false };
    if (server.kind === 'collective') {
      // Collectives run aggregate operations only (an unknown name counts as not aggregate).
      if (!this.aggregateOperations.has(op.operation)) return { notAggregate: true };
      // Over the collective's whole current contribution set or a published dataset, never files the request
      // picked ({all} and {all but one} would tell one member's data by subtraction): enforced here again.
      if (op.fileIds.length > 0) {
        return {
          refused: OperationErrorCode.file_selection_not_allowed,
          detail:
            'a collective runs aggregates over all its contributions or a published dataset, not chosen files',
        };
      }
      const resolved = await this.collectives.runFileIds(op.serverId, op.datasetId);
      if (!resolved) return { missing: op.datasetId ?? 'dataset' };
      if (resolved === 'retired') {
        return {
          refused: OperationErrorCode.dataset_retired,
          detail: 'a member of this dataset was removed since it was published; publish a new version',
        };
      }
      fileIds = resolved;
      collective = { fileIds };
      permission = op.datasetId
        ? { fileIds: [op.datasetId], requireAllFiles: false }
        : { fileIds: [], requireAllFiles: true };
      if (server.privacyEpsilon !== null && server.privacyBudget !== null) {
        const spend = {
          appAddress: op.appAddress,
          epsilon: server.privacyEpsilon,
          budget: server.privacyBudget,
        };
        if (!(await this.collectives.canSpend(op.serverId, spend.appAddress, spend.epsilon, spend.budget))) {
          return {
            refused: OperationErrorCode.privacy_budget_exhausted,
            detail: "the app's privacy budget on this collective is spent",
            collective,
          };
        }
        collective.privacy = spend;
        privacy = { epsilon: Number(server.privacyEpsilon) };
      }
      loaded = (await this.operations.loadRunInput(op.serverId, fileIds, limit)) ?? loaded;
      if (loaded.inputBytes > limit) return { tooLarge: { bytes: loaded.inputBytes, limit }, collective };
    }
    const byId = new Map(loaded.files.map((f) => [f.id, f]));
    // Record operations read the files' stored indexes (one query), so they need not parse every file again.
    const indexes = usesRecords(this.inference, op.operation)
      ? await this.readIndexes(op.serverId, fileIds)
      : new Map<string, { ciphertextSha256: string; sealedIndex: Buffer }>();
    const files: TaskFile[] = [];
    for (const fileId of fileIds) {
      const row = byId.get(fileId);
      if (!row) return { missing: fileId };
      let chunks = row.chunks;
      if (!chunks) {
        chunks = [];
        for await (const chunk of this.files.readChunks(op.serverId, fileId)) chunks.push(chunk);
      }
      files.push({
        fileId,
        sealedName: row.sealedName,
        sealedContentType: row.sealedContentType,
        encryption: row.encryption,
        wrappedDataKey: row.wrappedDataKey,
        chunks,
        ciphertextSha256: row.ciphertextSha256 ?? '',
        contributor: row.contributorAddress,
        // A collective member's own key wrapped this file's data key; null: the tenant key.
        kmsKeyRef: row.kmsKeyRef ?? server.kmsKeyRef,
        sealedIndex:
          indexes.get(fileId)?.ciphertextSha256 === row.ciphertextSha256
            ? (indexes.get(fileId)?.sealedIndex ?? null)
            : null,
      });
    }
    if (!this.config.dataPermissionsAddress)
      throw new UnrecoverableError('DATA_PERMISSIONS_ADDRESS is not configured');
    // The gateway made it before sealing this operation's parameters.
    if (!loaded.wrappedMetadataKey) throw new UnrecoverableError(`server ${op.serverId} has no metadata key`);
    return {
      input: {
        operationId: op.id,
        serverId: op.serverId,
        serverAddress: getAddress(server.address),
        ownerAddress: getAddress(server.ownerAddress),
        appAddress: getAddress(op.appAddress),
        policy: serverPolicy(server),
        grantId: op.grantId,
        operation: op.operation,
        sealedParameters: op.sealedParameters,
        wrappedMetadataKey: loaded.wrappedMetadataKey,
        k: server.kThreshold,
        kmsKeyRef: server.kmsKeyRef,
        wrappedIdentityKey: server.wrappedIdentityKey,
        chain: {
          rpcUrl: this.config.CHAIN_RPC_URL,
          chainId: this.config.CHAIN_ID,
          dataPermissionsAddress: this.config.dataPermissionsAddress,
          timeoutMs: this.config.CHAIN_TIMEOUT_MS,
        },
        inference: this.inference,
        files,
        permission,
        privacy,
      },
      collective,
    };
  }
}

/** The ended operation as stored, for the end event (a collective's is read back from the row instead). */
function endState(op: OperationEntity, outcome: OperationOutcome, finishedAt: Date): OperationEndState {
  const small =
    outcome.resultCiphertext !== null &&
    outcome.resultWrappedKey !== null &&
    outcome.resultCiphertext.length <= MAX_EVENT_RESULT_BYTES;
  return {
    startedAt: op.startedAt?.toISOString() ?? null,
    finishedAt: finishedAt.toISOString(),
    fileIds: op.fileIds,
    errorCode: outcome.errorCode,
    errorDetail: outcome.errorDetail,
    receipt: outcome.receipt,
    timings: outcome.timings,
    resultExpiresAt: outcome.resultExpiresAt?.toISOString() ?? null,
    ...(small
      ? {
          sealedResult: {
            ciphertext: outcome.resultCiphertext!.toString('base64'),
            wrappedKey: outcome.resultWrappedKey!.toString('base64'),
          },
        }
      : {}),
  };
}
