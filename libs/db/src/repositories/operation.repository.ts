import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { newId } from '@hearth/ids';
import { DataSource, Repository } from 'typeorm';
import type { FileEntity } from '../entities/file.entity';
import { OperationEntity, type OperationStatus } from '../entities/operation.entity';
import type { ServerEntity } from '../entities/server.entity';
import { hydrate } from './hydrate';
import { inlineChunksSql, splitInlineChunks } from './internal/inline-chunks';
import { outcomeEventsSql } from './internal/event-sql';
import { Params } from './internal/params';
import { columnsOf, prepared } from './prepared';

export const TERMINAL_STATUSES: readonly OperationStatus[] = ['succeeded', 'failed', 'denied', 'cancelled'];

/** An operation to record: `NewOperationInput` with the server it is for. */
export interface NewOperationInput {
  /** Chosen by the caller: the sealed parameters' AAD names it. */
  id: string;
  apiKeyId: string;
  appAddress: string;
  operation: string;
  operationVersion: string;
  /** The parameters' JSON sealed under the server's metadata key (never plaintext). */
  sealedParameters: Buffer;
  fileIds: string[];
  grantId: string | null;
  /** A collective's published dataset to run over (null: its whole current contribution set). */
  datasetId?: string | null;
  idempotencyKey: string | null;
  requestHash: string;
  /** The queue (QUEUE_PREFIX) its job goes to; the reconciler of that queue only looks after it. Default `hearth`. */
  queuePrefix?: string;
}

/** What a collective's aggregate ran over and the ε it spends, recorded with its outcome. */
export interface CollectiveFinish {
  /** The contribution set resolved at execution time: recorded as the operation's and access-log row's files. */
  fileIds: string[];
  /** Differential privacy: the app's spend, made only if it stays within the budget. */
  privacy?: { appAddress: string; epsilon: string; budget: string };
}

export interface OperationOutcome {
  status: 'succeeded' | 'failed' | 'denied';
  errorCode: string | null;
  errorDetail: string | null;
  resultCiphertext: Buffer | null;
  resultWrappedKey: Buffer | null;
  resultExpiresAt: Date | null;
  receipt: Record<string, unknown> | null;
  receiptHash: string | null;
  blockNumber: string | null;
  timings: Record<string, number>;
  computeMs: number;
  inputBytes: number;
  /** True when data was decrypted (an access-log "decryption"), false for denials before any decryption. */
  decrypted: boolean;
}

/** An outcome that ran nothing: a refusal or a give-up, with its code and detail and no result. */
export function outcomeWithoutResult(
  code: string,
  detail: string,
  status: 'failed' | 'denied' = 'failed',
): OperationOutcome {
  return {
    status,
    errorCode: code,
    errorDetail: detail,
    resultCiphertext: null,
    resultWrappedKey: null,
    resultExpiresAt: null,
    receipt: null,
    receiptHash: null,
    blockNumber: null,
    timings: {},
    computeMs: 0,
    inputBytes: 0,
    decrypted: false,
  };
}

/** An unfinished operation as the reconciler sees it (ids and counters only). */
export interface UnfinishedOperation {
  id: string;
  serverId: string;
  status: 'queued' | 'running';
  attempts: number;
  requeues: number;
  createdAt: Date;
}

/** What the worker needs of a server to run an operation. */
export type RunServer = Pick<
  ServerEntity,
  | 'id'
  | 'kind'
  | 'address'
  | 'ownerAddress'
  | 'kmsKeyRef'
  | 'wrappedIdentityKey'
  | 'policyKind'
  | 'policyAddress'
  | 'kThreshold'
  | 'privacyEpsilon'
  | 'privacyBudget'
>;

/** A ready file of the operation, with its sealed chunks when it has at most INLINE_CHUNKS of them. */
export interface RunFile extends Pick<
  FileEntity,
  | 'id'
  | 'sealedName'
  | 'sealedContentType'
  | 'encryption'
  | 'wrappedDataKey'
  | 'kmsKeyRef'
  | 'chunkCount'
  | 'ciphertextSha256'
  | 'contributorAddress'
> {
  /** Null for a larger file: read it through the blob store, a batch at a time. */
  chunks: Buffer[] | null;
}

/** Files with at most this many chunks come back with the run input itself (one round trip for the lot). */
export const INLINE_CHUNKS = 16;

interface RunInputRow {
  id: string;
  kind: ServerEntity['kind'];
  address: string;
  owner_address: string;
  kms_key_ref: string;
  wrapped_identity_key: Buffer;
  policy_kind: ServerEntity['policyKind'];
  policy_address: string | null;
  k_threshold: number;
  input_bytes: string;
  privacy_epsilon: string | null;
  privacy_budget: string | null;
  file_id: string | null;
  wrapped_metadata_key: Buffer | null;
  sealed_name: Buffer;
  sealed_content_type: Buffer;
  encryption: FileEntity['encryption'];
  wrapped_data_key: Buffer | null;
  file_kms_key_ref: string | null;
  chunk_count: number;
  ciphertext_sha256: string | null;
  contributor_address: string;
  inline_data: Buffer | null;
  inline_lengths: number[] | null;
}

/**
 * Operations, with their access-log rows and usage counters written as they finish. Every method names the tenant
 * (server) first, but the maintenance sweep `purgeExpiredResults` and the legacy argument orders kept at the end.
 */
@Injectable()
export class OperationRepository {
  static readonly entities = [OperationEntity];

  constructor(
    @InjectRepository(OperationEntity) private readonly operations: Repository<OperationEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * Inserts, or returns the existing operation for the same (key, Idempotency-Key): `created` tells which.
   */
  async createIdempotent(
    serverId: string,
    op: NewOperationInput,
  ): Promise<{ operation: OperationEntity; created: boolean }> {
    if (op.idempotencyKey) {
      const existing = await this.findIdempotent(serverId, op.apiKeyId, op.idempotencyKey);
      if (existing) return { operation: existing, created: false };
    }
    try {
      const rows = await prepared<Record<string, unknown>>(
        this.dataSource,
        'operations_insert',
        `INSERT INTO operations (id, server_id, api_key_id, app_address, operation, operation_version,
           sealed_parameters, file_ids, grant_id, status, idempotency_key, request_hash, attempts, dataset_id,
           queue_prefix)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text[], $9, 'queued', $10, $11, 0, $12, $13)
         RETURNING ${this.columns()}`,
        [
          op.id,
          serverId,
          op.apiKeyId,
          op.appAddress,
          op.operation,
          op.operationVersion,
          op.sealedParameters,
          op.fileIds,
          op.grantId,
          op.idempotencyKey,
          op.requestHash,
          op.datasetId ?? null,
          op.queuePrefix ?? 'hearth',
        ],
      );
      return { operation: this.hydrate(rows[0]), created: true };
    } catch (err) {
      // A concurrent request with the same Idempotency-Key won the unique index: answer with its operation.
      if (op.idempotencyKey && (err as { code?: string }).code === '23505') {
        const existing = await this.findIdempotent(serverId, op.apiKeyId, op.idempotencyKey);
        if (existing) return { operation: existing, created: false };
      }
      throw err;
    }
  }

  /** The key's operation recorded under this Idempotency-Key, or null. */
  findIdempotent(
    serverId: string,
    apiKeyId: string,
    idempotencyKey: string,
  ): Promise<OperationEntity | null> {
    return this.operations.findOneBy({ serverId, apiKeyId, idempotencyKey });
  }

  /**
   * One operation of one API key (only the key that created an operation sees it). A prepared statement: every
   * status read and event stream of an app goes through here.
   */
  async findForApiKey(serverId: string, apiKeyId: string, id: string): Promise<OperationEntity | null> {
    const rows = await prepared<Record<string, unknown>>(
      this.dataSource,
      'operations_find_for_key',
      `SELECT ${this.columns()} FROM operations WHERE id = $1 AND server_id = $2 AND api_key_id = $3`,
      [id, serverId, apiKeyId],
    );
    return rows.length ? this.hydrate(rows[0]) : null;
  }

  /**
   * The key's operations, newest first, after `cursor` (an id), optionally in one status; `limit` rows.
   *
   * Ordered and compared as `id COLLATE "C"`, an order only operations_key_page_idx (server_id, api_key_id,
   * id COLLATE "C") has: the primary key cannot give it, so no plan walks every tenant's newest operations and
   * filters out the others', whatever the statistics say (docs/architecture.md#pages). A status filter drops only
   * this key's own operations; an index with the status in it would turn every status change on the operation
   * path into an update of all the table's indexes.
   */
  async listForApiKey(
    serverId: string,
    apiKeyId: string,
    page: { limit: number; cursor?: string; status?: OperationStatus },
  ): Promise<OperationEntity[]> {
    const p = new Params();
    const where = [`server_id = ${p.add(serverId)}`, `api_key_id = ${p.add(apiKeyId)}`];
    if (page.status) where.push(`status = ${p.add(page.status)}`);
    if (page.cursor) where.push(`id COLLATE "C" < ${p.add(page.cursor)}`);
    const rows = await this.operations.query<Array<Record<string, unknown>>>(
      `SELECT ${this.columns()} FROM operations WHERE ${where.join(' AND ')}
        ORDER BY id COLLATE "C" DESC LIMIT ${p.add(page.limit)}`,
      p.values,
    );
    return rows.map((row) => this.hydrate(row));
  }

  /**
   * Removes an operation that never made it onto the queue (its enqueue failed), so no half-written operation
   * stays. False when the server has no such operation.
   */
  async deleteUnqueued(serverId: string, operationId: string): Promise<boolean> {
    const result = await this.operations.delete({ id: operationId, serverId });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Drops the results (derived from private data) whose time is up, for every server at once: a maintenance
   * sweep, the one method without a server id. Receipts and access-log rows stay. Returns how many went.
   */
  async purgeExpiredResults(): Promise<number> {
    const result: [unknown[], number] = await this.operations.query(
      `UPDATE operations SET result_ciphertext = NULL, result_wrapped_key = NULL
        WHERE result_ciphertext IS NOT NULL AND result_expires_at <= now()`,
    );
    return result[1];
  }

  findById(serverId: string, id: string): Promise<OperationEntity | null> {
    return this.operations.findOneBy({ id, serverId });
  }

  /** Marks a queued (or retried running) operation as running; null when it already ended or was cancelled. */
  async claim(serverId: string, id: string): Promise<OperationEntity | null> {
    const rows = await prepared<Record<string, unknown>>(
      this.dataSource,
      'operations_claim',
      `UPDATE operations SET status = 'running', started_at = now(), attempts = attempts + 1
       WHERE id = $1 AND server_id = $2 AND status IN ('queued', 'running')
       RETURNING ${this.columns()}`,
      [id, serverId],
    );
    return rows.length ? this.hydrate(rows[0]) : null;
  }

  private hydrate(row: Record<string, unknown>): OperationEntity {
    return hydrate(this.dataSource, OperationEntity, row);
  }

  private operationColumns?: string;

  /** The operations table's columns, for the prepared statements' SELECT and RETURNING lists. */
  private columns(): string {
    this.operationColumns ??= columnsOf(this.dataSource, OperationEntity);
    return this.operationColumns;
  }

  /**
   * The server and the ready files among `fileIds` (small files with their sealed chunks) in one round trip;
   * null when the server is gone. A file that is missing or not ready is simply absent from `files`.
   * `inputBytes` is the recorded size of those files together; past `maxInputBytes` no file is loaded at all
   * (`files` is empty), so an oversized input costs one sum, never a read of its chunks.
   */
  async loadRunInput(
    serverId: string,
    fileIds: string[],
    maxInputBytes = Number.MAX_SAFE_INTEGER,
  ): Promise<{
    server: RunServer;
    wrappedMetadataKey: Buffer | null;
    files: RunFile[];
    inputBytes: number;
  } | null> {
    const rows = await prepared<RunInputRow>(
      this.dataSource,
      'operations_run_input',
      `WITH input AS (
         SELECT coalesce(sum(size), 0) AS bytes FROM files
          WHERE server_id = $1 AND id = ANY($2::text[]) AND status = 'ready'
       )
       SELECT s.id, s.kind, s.address, s.owner_address, s.kms_key_ref, s.wrapped_identity_key, s.policy_kind,
              s.policy_address, s.k_threshold, s.privacy_epsilon, s.privacy_budget, input.bytes AS input_bytes,
              mk.wrapped_key AS wrapped_metadata_key,
              f.id AS file_id, f.sealed_name, f.sealed_content_type, f.encryption, f.wrapped_data_key,
              f.kms_key_ref AS file_kms_key_ref, f.chunk_count, f.ciphertext_sha256, f.contributor_address,
              ${inlineChunksSql('f', '$3', 'inline')}
       FROM servers s
       CROSS JOIN input
       LEFT JOIN server_metadata_keys mk ON mk.server_id = s.id
       LEFT JOIN files f ON f.server_id = s.id AND f.id = ANY($2::text[]) AND f.status = 'ready'
                        AND input.bytes <= $4
       WHERE s.id = $1`,
      [serverId, fileIds, INLINE_CHUNKS, maxInputBytes],
    );
    if (rows.length === 0) return null;
    const first = rows[0];
    const server: RunServer = {
      id: first.id,
      kind: first.kind,
      address: first.address,
      ownerAddress: first.owner_address,
      kmsKeyRef: first.kms_key_ref,
      wrappedIdentityKey: first.wrapped_identity_key,
      policyKind: first.policy_kind,
      policyAddress: first.policy_address,
      kThreshold: first.k_threshold,
      privacyEpsilon: first.privacy_epsilon,
      privacyBudget: first.privacy_budget,
    };
    const files: RunFile[] = rows
      .filter((r): r is RunInputRow & { file_id: string } => r.file_id !== null)
      .map((r) => ({
        id: r.file_id,
        sealedName: r.sealed_name,
        sealedContentType: r.sealed_content_type,
        encryption: r.encryption,
        wrappedDataKey: r.wrapped_data_key,
        kmsKeyRef: r.file_kms_key_ref,
        chunkCount: r.chunk_count,
        ciphertextSha256: r.ciphertext_sha256,
        contributorAddress: r.contributor_address,
        chunks: splitInlineChunks(r.inline_data, r.inline_lengths),
      }));
    return {
      server,
      wrappedMetadataKey: first.wrapped_metadata_key,
      files,
      inputBytes: Number(first.input_bytes),
    };
  }

  /** Cancels a queued operation; false when it is no longer queued. */
  async cancelQueued(serverId: string, id: string): Promise<boolean> {
    const result = await this.dataSource
      .createQueryBuilder()
      .update(OperationEntity)
      .set({ status: 'cancelled', finishedAt: () => 'now()', errorCode: 'cancelled' })
      .where("id = :id AND server_id = :serverId AND status = 'queued'", { id, serverId })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /**
   * Records the outcome exactly once: the status change, the access-log row, the usage counters and the owner's
   * event (`operation.<status>`, and `grant.expired` once per grant refused as expired) are one statement
   * (data-modifying CTEs commit together), applied only if the operation is still running (a retried job that
   * finished before loses here). One round trip instead of a five-statement transaction. Returns the time it
   * ended at, or null when it was not running.
   */
  async finish(serverId: string, op: OperationEntity, outcome: OperationOutcome): Promise<Date | null> {
    return this.finishWhere('operations_finish', `status = 'running'`, serverId, op.id, outcome);
  }

  /**
   * Ends an operation that is still queued or running as `failed` with `code` (the queue gave up on it, or the
   * reconciler did), with its access-log row and usage count, exactly once: false when it had ended already.
   * Needs no claim first: a give-up must commit even for an operation no attempt ever claimed.
   */
  async abandon(serverId: string, id: string, code: string, detail: string): Promise<boolean> {
    const finishedAt = await this.finishWhere(
      'operations_abandon',
      `status IN ('queued', 'running')`,
      serverId,
      id,
      outcomeWithoutResult(code, detail),
    );
    return finishedAt !== null;
  }

  /**
   * Unfinished operations of one queue (every server's) accepted before `before`, oldest first, at most
   * `limit`: the reconciler's sweep (a maintenance query like `purgeExpiredResults`, the other method without a
   * server id; operations_unfinished_idx keeps it to the unfinished rows).
   */
  async listUnfinished(queuePrefix: string, before: Date, limit: number): Promise<UnfinishedOperation[]> {
    const rows = await prepared<{
      id: string;
      server_id: string;
      status: 'queued' | 'running';
      attempts: number;
      requeues: number;
      created_at: Date;
    }>(
      this.dataSource,
      'operations_list_unfinished',
      `SELECT id, server_id, status, attempts, requeues, created_at FROM operations
        WHERE queue_prefix = $1 AND status IN ('queued', 'running') AND created_at < $2
        ORDER BY created_at LIMIT $3`,
      [queuePrefix, before, limit],
    );
    return rows.map((r) => ({
      id: r.id,
      serverId: r.server_id,
      status: r.status,
      attempts: r.attempts,
      requeues: r.requeues,
      createdAt: r.created_at,
    }));
  }

  /**
   * Counts one more re-queue of an unfinished operation, unless it has had `max` already: 'requeue' (counted:
   * queue it again), 'exhausted' (its budget is used up: end it) or 'finished' (it ended meanwhile: leave it).
   */
  async countRequeue(
    serverId: string,
    id: string,
    max: number,
  ): Promise<'requeue' | 'exhausted' | 'finished'> {
    const rows = await prepared<{ requeues: number; counted: boolean }>(
      this.dataSource,
      'operations_count_requeue',
      `WITH counted AS (
         UPDATE operations SET requeues = requeues + 1
          WHERE id = $1 AND server_id = $2 AND status IN ('queued', 'running') AND requeues < $3
          RETURNING requeues
       )
       SELECT requeues, true AS counted FROM counted
       UNION ALL
       SELECT requeues, false FROM operations
        WHERE id = $1 AND server_id = $2 AND status IN ('queued', 'running') AND NOT EXISTS (SELECT 1 FROM counted)`,
      [id, serverId, max],
    );
    if (rows.length === 0) return 'finished';
    return rows[0].counted ? 'requeue' : 'exhausted';
  }

  private async finishWhere(
    statement: string,
    statusCondition: string,
    serverId: string,
    id: string,
    outcome: OperationOutcome,
  ): Promise<Date | null> {
    const rows = await prepared<{ finished: number; finished_at: Date | null }>(
      this.dataSource,
      statement,
      finishSql(statusCondition),
      finishParams(serverId, id, outcome, null),
    );
    return rows[0].finished > 0 ? rows[0].finished_at : null;
  }

  /**
   * A collective's outcome: as `finish`, with the contribution set it ran over recorded, and, under differential
   * privacy, the app's ε spent in the same transaction (the operation row locked first, so a retried job cannot
   * spend twice). 'exhausted' when the spend would pass the budget: then nothing is written, and the caller
   * records a denial instead.
   */
  async finishCollective(
    serverId: string,
    op: OperationEntity,
    outcome: OperationOutcome,
    collective: CollectiveFinish,
  ): Promise<'finished' | 'not-running' | 'exhausted'> {
    return this.dataSource.transaction(async (tx) => {
      const running: unknown[] = await tx.query(
        `SELECT 1 FROM operations WHERE id = $1 AND server_id = $2 AND status = 'running' FOR UPDATE`,
        [op.id, serverId],
      );
      if (running.length === 0) return 'not-running';
      const { privacy } = collective;
      if (privacy && outcome.status === 'succeeded') {
        const spent: unknown[] = await tx.query(
          `INSERT INTO privacy_budgets AS b (server_id, app_address, spent, updated_at)
           SELECT $1, $2, $3::numeric, now() WHERE $3::numeric <= $4::numeric
           ON CONFLICT (server_id, app_address) DO UPDATE SET spent = b.spent + EXCLUDED.spent, updated_at = now()
             WHERE b.spent + EXCLUDED.spent <= $4::numeric
           RETURNING spent`,
          [serverId, privacy.appAddress.toLowerCase(), privacy.epsilon, privacy.budget],
        );
        if (spent.length === 0) return 'exhausted';
      }
      const rows: Array<{ finished: number }> = await tx.query(
        finishSql(`status = 'running'`),
        finishParams(serverId, op.id, outcome, collective.fileIds),
      );
      return rows[0].finished > 0 ? 'finished' : 'not-running';
    });
  }
}

/**
 * The status change, the access-log row, the usage counters and the owner's events as one statement (data-modifying CTEs commit
 * together), applied only while the operation's status meets `statusCondition`. `$16`, when not null, replaces
 * the operation's file ids (a collective's aggregate records the contribution set it ran over).
 */
function finishSql(statusCondition: string): string {
  return `WITH done AS (
         UPDATE operations SET status = $3, error_code = $4, error_detail = $5, result_ciphertext = $6,
           result_wrapped_key = $7, result_expires_at = $8, receipt = $9::jsonb, receipt_hash = $10,
           timings = $11::jsonb, finished_at = now(), file_ids = coalesce($16::text[], file_ids)
         WHERE id = $1 AND server_id = $2 AND ${statusCondition}
         RETURNING id, server_id, app_address, api_key_id, grant_id, operation, file_ids, finished_at
       ), logged AS (
         INSERT INTO access_log (id, server_id, operation_id, actor, api_key_id, grant_id, operation, file_ids,
           outcome, code, block_number, receipt_hash)
         SELECT $12, server_id, id, app_address, api_key_id, grant_id, operation, file_ids, $3, $4, $13, $10
         FROM done
       ), used AS (
         INSERT INTO usage_daily (server_id, api_key_id, day, operations, compute_ms, input_bytes)
         SELECT server_id, api_key_id, (now() AT TIME ZONE 'UTC')::date, 1, $14, $15 FROM done
         ON CONFLICT (server_id, api_key_id, day) DO UPDATE SET
           operations = usage_daily.operations + 1,
           compute_ms = usage_daily.compute_ms + EXCLUDED.compute_ms,
           input_bytes = usage_daily.input_bytes + EXCLUDED.input_bytes
       ), outcome AS (
         SELECT server_id, id AS operation_id, operation, app_address, api_key_id, grant_id FROM done
       ), ${outcomeEventsSql('outcome', '$3', '$4', '$17', '$18')}
       SELECT count(*)::int AS finished, max(finished_at) AS finished_at FROM done`;
}

function finishParams(
  serverId: string,
  id: string,
  outcome: OperationOutcome,
  fileIds: string[] | null,
): unknown[] {
  return [
    id,
    serverId,
    outcome.status,
    outcome.errorCode,
    outcome.errorDetail,
    outcome.resultCiphertext,
    outcome.resultWrappedKey,
    outcome.resultExpiresAt,
    outcome.receipt === null ? null : JSON.stringify(outcome.receipt),
    outcome.receiptHash,
    JSON.stringify(outcome.timings),
    newId('log'),
    outcome.blockNumber,
    Math.round(outcome.computeMs),
    outcome.inputBytes,
    fileIds,
    newId('evt'),
    newId('evt'),
  ];
}
