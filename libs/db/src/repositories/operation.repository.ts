import { Injectable } from '@nestjs/common';
import { newId } from '@hearth/ids';
import { DataSource } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { OperationEntity, type OperationStatus } from '../entities/operation.entity';
import { AccessLogEntity } from '../entities/access-log.entity';

export const TERMINAL_STATUSES: readonly OperationStatus[] = ['succeeded', 'failed', 'denied', 'cancelled'];

export interface NewOperation {
  serverId: string;
  apiKeyId: string;
  appAddress: string;
  operation: string;
  operationVersion: string;
  parameters: Record<string, unknown>;
  fileIds: string[];
  grantId: string | null;
  idempotencyKey: string | null;
  requestHash: string;
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

/** Operations, their access-log rows and usage: every method names the tenant (server) it acts for. */
@Injectable()
export class OperationRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Inserts, or returns the existing operation for the same (key, Idempotency-Key). */
  async createOrGetIdempotent(op: NewOperation): Promise<{ operation: OperationEntity; created: boolean }> {
    const repo = this.dataSource.getRepository(OperationEntity);
    if (op.idempotencyKey) {
      const existing = await repo.findOneBy({ apiKeyId: op.apiKeyId, idempotencyKey: op.idempotencyKey });
      if (existing) return { operation: existing, created: false };
    }
    const entity = repo.create({ ...op, id: newId('op'), status: 'queued', attempts: 0 });
    try {
      // why: TypeORM's deep-partial type cannot follow a jsonb Record column; the entity is complete.
      const inserted = await repo
        .createQueryBuilder()
        .insert()
        .values(entity as QueryDeepPartialEntity<OperationEntity>)
        .returning('*')
        .execute();
      return { operation: this.hydrate((inserted.raw as Record<string, unknown>[])[0]), created: true };
    } catch (err) {
      // A concurrent request with the same Idempotency-Key won the unique index: answer with its operation.
      if (op.idempotencyKey && (err as { code?: string }).code === '23505') {
        const existing = await repo.findOneBy({ apiKeyId: op.apiKeyId, idempotencyKey: op.idempotencyKey });
        if (existing) return { operation: existing, created: false };
      }
      throw err;
    }
  }

  findByIdempotencyKey(apiKeyId: string, idempotencyKey: string): Promise<OperationEntity | null> {
    return this.dataSource.getRepository(OperationEntity).findOneBy({ apiKeyId, idempotencyKey });
  }

  findForKey(apiKeyId: string, serverId: string, id: string): Promise<OperationEntity | null> {
    return this.dataSource.getRepository(OperationEntity).findOneBy({ id, serverId, apiKeyId });
  }

  findById(serverId: string, id: string): Promise<OperationEntity | null> {
    return this.dataSource.getRepository(OperationEntity).findOneBy({ id, serverId });
  }

  /** Marks a queued (or retried running) operation as running; null when it already ended or was cancelled. */
  async claim(serverId: string, id: string): Promise<OperationEntity | null> {
    const rows = await this.dataSource
      .createQueryBuilder()
      .update(OperationEntity)
      .set({ status: 'running', startedAt: () => 'now()', attempts: () => 'attempts + 1' })
      .where('id = :id AND server_id = :serverId AND status IN (:...open)', {
        id,
        serverId,
        open: ['queued', 'running'],
      })
      .returning('*')
      .execute()
      .then((r) => r.raw as Record<string, unknown>[]);
    return rows.length ? this.hydrate(rows[0]) : null;
  }

  /** An entity from a RETURNING * row (column names → properties, with the driver's own value conversions). */
  private hydrate(row: Record<string, unknown>): OperationEntity {
    const metadata = this.dataSource.getMetadata(OperationEntity);
    const entity = metadata.create() as OperationEntity;
    for (const column of metadata.columns) {
      column.setEntityValue(
        entity,
        this.dataSource.driver.prepareHydratedValue(row[column.databaseName], column),
      );
    }
    return entity;
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
   * Records the outcome exactly once: the status change, the access-log row and the usage counters commit
   * together, and only if the operation is still running (a retried job that finished before loses here).
   */
  async finish(serverId: string, op: OperationEntity, outcome: OperationOutcome): Promise<boolean> {
    return this.dataSource.transaction(async (tx) => {
      const updated = await tx
        .createQueryBuilder()
        .update(OperationEntity)
        .set({
          status: outcome.status,
          errorCode: outcome.errorCode,
          errorDetail: outcome.errorDetail,
          resultCiphertext: outcome.resultCiphertext,
          resultWrappedKey: outcome.resultWrappedKey,
          resultExpiresAt: outcome.resultExpiresAt,
          receipt: outcome.receipt,
          receiptHash: outcome.receiptHash,
          timings: outcome.timings,
          finishedAt: () => 'now()',
        })
        .where("id = :id AND server_id = :serverId AND status = 'running'", { id: op.id, serverId })
        .execute();
      if ((updated.affected ?? 0) === 0) return false;
      await tx.getRepository(AccessLogEntity).insert({
        id: newId('log'),
        serverId,
        operationId: op.id,
        actor: op.appAddress,
        apiKeyId: op.apiKeyId,
        grantId: op.grantId,
        operation: op.operation,
        fileIds: op.fileIds,
        outcome: outcome.status,
        code: outcome.errorCode,
        blockNumber: outcome.blockNumber,
        receiptHash: outcome.receiptHash,
      });
      await tx.query(
        `INSERT INTO usage_daily (server_id, api_key_id, day, operations, compute_ms, input_bytes)
         VALUES ($1, $2, (now() AT TIME ZONE 'UTC')::date, 1, $3, $4)
         ON CONFLICT (server_id, api_key_id, day) DO UPDATE SET
           operations = usage_daily.operations + 1,
           compute_ms = usage_daily.compute_ms + EXCLUDED.compute_ms,
           input_bytes = usage_daily.input_bytes + EXCLUDED.input_bytes`,
        [serverId, op.apiKeyId, Math.round(outcome.computeMs), outcome.inputBytes],
      );
      return true;
    });
  }
}
