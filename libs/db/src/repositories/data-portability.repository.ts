import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { BlobStore } from '@hearth/blobs';
import type { DataSource } from 'typeorm';
import { BLOB_STORE } from '../blob-store';
import { AccessLogEntity } from '../entities/access-log.entity';
import { DpAccessReceiptEntity, DpDocumentEntity, DpScopeEntity } from '../entities/data-portability.entity';
import { FileEntity } from '../entities/file.entity';
import type { NewAccessLogEntry } from './access-log.repository';
import {
  FileRepository,
  type NewFile,
  READ_INLINE_CHUNKS,
  type UploadedStats,
  type ChunkWriter,
} from './file.repository';
import { hydrate } from './hydrate';
import { deleteFilesIn } from './internal/file-rows';
import { inlineChunksSql, splitInlineChunks } from './internal/inline-chunks';
import { columnsOf, prepared } from './prepared';

/** A scope document version to record with its file. */
export interface NewDpDocument {
  scopeDigest: string;
  sealedScope: Buffer;
  collectedAt: Date;
}

/** Which version of a scope a read asks for: the latest, the one collected last at or before `at`, or one file. */
export interface DpVersionSelector {
  at?: Date;
  fileId?: string;
}

/** What one statement tells a read of a scope. */
export interface DpScopeRead {
  /** The owner marked the scope readable by builders. */
  readable: boolean;
  /** The chosen version (null: the scope has none matching). */
  document: DpDocumentEntity | null;
  file: FileEntity | null;
  /** The file's sealed chunks when it has at most READ_INLINE_CHUNKS of them. */
  chunks: Buffer[] | null;
}

/** One scope of a server with its latest version. */
export interface DpScopeSummary {
  scopeDigest: string;
  /** Sealed with the latest version's file id as row id. */
  latest: DpDocumentEntity;
  versions: number;
}

/** A Data Portability access-log row with its receipt and sealed scope. */
export interface DpAccessLogRow extends AccessLogEntity {
  receipt: unknown;
  sealedScope: Buffer | null;
}

/**
 * The Data Portability Protocol's scopes and their versions (each a file), the owner's per-scope readable
 * setting, and the protocol's access-log rows with their receipts. Every method names the tenant (server) first
 * and touches only its rows.
 */
@Injectable()
export class DataPortabilityRepository {
  static readonly entities = [
    DpDocumentEntity,
    DpScopeEntity,
    DpAccessReceiptEntity,
    FileEntity,
    AccessLogEntity,
  ];

  private readColumns?: { doc: string; file: string };
  private docColumns?: string;
  private logColumns?: string;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly files: FileRepository,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
  ) {}

  /** The upload of one version: its file and its document row in the same transaction (nothing on failure). */
  uploadDocument(
    serverId: string,
    file: NewFile,
    doc: NewDpDocument,
    write: (chunks: ChunkWriter) => Promise<UploadedStats>,
    maxStoredBytes?: number,
  ): Promise<FileEntity> {
    return this.files.upload(serverId, file, write, maxStoredBytes, async (tx) => {
      await tx.getRepository(DpDocumentEntity).insert({ ...doc, fileId: file.id, serverId });
    });
  }

  /**
   * The read path in one prepared statement: the scope's readable setting and the chosen version's ready file
   * (with its chunks when small). The version: `fileId` when given (and of this scope), else the latest
   * collected at or before `at` (now when absent).
   */
  async read(serverId: string, scopeDigest: string, select: DpVersionSelector = {}): Promise<DpScopeRead> {
    this.readColumns ??= {
      doc: columnsOf(this.dataSource, DpDocumentEntity, 'd', 'd_'),
      file: columnsOf(this.dataSource, FileEntity, 'f', 'f_'),
    };
    const rows = await prepared<Record<string, unknown>>(
      this.dataSource,
      'dp_read',
      `SELECT s.readable AS s_readable, ${this.readColumns.doc}, ${this.readColumns.file},
              ${inlineChunksSql('f', '$5', 'inline')}
         FROM (SELECT 1) one
         LEFT JOIN dp_scopes s ON s.server_id = $1 AND s.scope_digest = $2
         LEFT JOIN LATERAL (
           SELECT * FROM dp_documents dd
            WHERE dd.server_id = $1 AND dd.scope_digest = $2
              AND ($3::text IS NULL OR dd.file_id = $3)
              AND ($4::timestamptz IS NULL OR dd.collected_at <= $4)
            ORDER BY dd.collected_at DESC, dd.file_id DESC LIMIT 1) d ON true
         LEFT JOIN files f ON f.server_id = $1 AND f.id = d.file_id AND f.status = 'ready'`,
      [serverId, scopeDigest, select.fileId ?? null, select.at ?? null, READ_INLINE_CHUNKS],
    );
    const row = rows[0];
    const document = row.d_file_id === null ? null : hydrate(this.dataSource, DpDocumentEntity, row, 'd_');
    const file = row.f_id === null ? null : hydrate(this.dataSource, FileEntity, row, 'f_');
    return {
      readable: row.s_readable === true,
      document,
      file,
      chunks: file
        ? splitInlineChunks(row.inline_data as Buffer | null, row.inline_lengths as number[] | null)
        : null,
    };
  }

  /** Every scope of the server with its latest version and how many versions it has, by digest. */
  async scopes(serverId: string): Promise<DpScopeSummary[]> {
    this.docColumns ??= columnsOf(this.dataSource, DpDocumentEntity, 'd');
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT DISTINCT ON (d.scope_digest) ${this.docColumns},
              count(*) OVER (PARTITION BY d.scope_digest)::int AS versions
         FROM dp_documents d
        WHERE d.server_id = $1
        ORDER BY d.scope_digest, d.collected_at DESC, d.file_id DESC`,
      [serverId],
    );
    return rows.map((row) => ({
      scopeDigest: row.scope_digest as string,
      latest: hydrate(this.dataSource, DpDocumentEntity, row),
      versions: row.versions as number,
    }));
  }

  /** A page of the scope's versions, newest first, and how many it has in all. */
  async versions(
    serverId: string,
    scopeDigest: string,
    page: { limit: number; offset: number },
  ): Promise<{ items: DpDocumentEntity[]; total: number }> {
    this.docColumns ??= columnsOf(this.dataSource, DpDocumentEntity, 'd');
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT ${this.docColumns}, count(*) OVER ()::int AS total
         FROM dp_documents d
        WHERE d.server_id = $1 AND d.scope_digest = $2
        ORDER BY d.collected_at DESC, d.file_id DESC
        LIMIT $3 OFFSET $4`,
      [serverId, scopeDigest, page.limit, page.offset],
    );
    let total = rows.length > 0 ? (rows[0].total as number) : 0;
    if (rows.length === 0 && page.offset > 0) {
      const [counted] = await this.dataSource.query<Array<{ n: number }>>(
        `SELECT count(*)::int AS n FROM dp_documents WHERE server_id = $1 AND scope_digest = $2`,
        [serverId, scopeDigest],
      );
      total = counted.n;
    }
    return { items: rows.map((row) => hydrate(this.dataSource, DpDocumentEntity, row)), total };
  }

  /**
   * One transaction: every version's file (chunks, then row; the document rows cascade) and the scope's
   * readable setting. The number of versions removed (0: the scope had none).
   */
  async deleteScope(serverId: string, scopeDigest: string): Promise<number> {
    return this.dataSource.transaction(async (tx) => {
      const docs = await tx
        .getRepository(DpDocumentEntity)
        .find({ where: { serverId, scopeDigest }, select: { fileId: true } });
      const deleted = await deleteFilesIn(
        tx,
        this.blobs,
        serverId,
        docs.map((d) => d.fileId),
      );
      await tx.getRepository(DpScopeEntity).delete({ serverId, scopeDigest });
      return deleted;
    });
  }

  /** Sets the scope's readable flag (the setting is created on first use). */
  async setReadable(
    serverId: string,
    scopeDigest: string,
    sealedScope: Buffer,
    readable: boolean,
  ): Promise<DpScopeEntity> {
    await this.dataSource.query(
      `INSERT INTO dp_scopes (server_id, scope_digest, sealed_scope, readable, updated_at)
       VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (server_id, scope_digest) DO UPDATE SET readable = EXCLUDED.readable, updated_at = now()`,
      [serverId, scopeDigest, sealedScope, readable],
    );
    return this.dataSource.getRepository(DpScopeEntity).findOneByOrFail({ serverId, scopeDigest });
  }

  /** The server's scope settings (sealed with the digest as row id). */
  scopeSettings(serverId: string): Promise<DpScopeEntity[]> {
    return this.dataSource
      .getRepository(DpScopeEntity)
      .find({ where: { serverId }, order: { scopeDigest: 'ASC' } });
  }

  /**
   * One statement: the access-log row (`id` from newId('log'), which the receipt names) and its receipt, a prepared
   * one: every protocol read by a builder writes one.
   */
  async appendAccess(
    serverId: string,
    entry: NewAccessLogEntry,
    extra: { id: string; sealedScope: Buffer | null; receipt: unknown },
  ): Promise<{ id: string; createdAt: Date }> {
    const [row] = await prepared<{ created_at: Date }>(
      this.dataSource,
      'dp_append_access',
      `WITH log AS (
         INSERT INTO access_log (id, server_id, operation_id, actor, api_key_id, grant_id, operation, file_ids,
                                 outcome, code, block_number, receipt_hash)
         VALUES ($1, $2, NULL, $3, NULL, $4, $5, $6, $7, $8, $9, $10) RETURNING id, server_id, created_at)
       , receipt AS (
         INSERT INTO dp_access_receipts (access_log_id, server_id, receipt, sealed_scope)
         SELECT id, server_id, $11::jsonb, $12 FROM log)
       SELECT created_at FROM log`,
      [
        extra.id,
        serverId,
        entry.actor,
        entry.grantId,
        entry.operation,
        entry.fileIds,
        entry.outcome,
        entry.code,
        entry.blockNumber,
        entry.receiptHash,
        JSON.stringify(extra.receipt),
        extra.sealedScope,
      ],
    );
    return { id: extra.id, createdAt: row.created_at };
  }

  /** A version's sealed chunks in order (for one too large to be read inline). */
  readChunks(serverId: string, fileId: string): AsyncIterable<Buffer> {
    return this.files.readChunks(serverId, fileId);
  }

  /** The server's protocol access-log rows (those with a protocol receipt), newest first. */
  async accessLog(
    serverId: string,
    page: { limit: number; offset: number },
  ): Promise<{ items: DpAccessLogRow[]; total: number }> {
    this.logColumns ??= columnsOf(this.dataSource, AccessLogEntity, 'l');
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT ${this.logColumns}, r.receipt AS r_receipt, r.sealed_scope AS r_sealed_scope,
              count(*) OVER ()::int AS total
         FROM dp_access_receipts r
         JOIN access_log l ON l.id = r.access_log_id AND l.server_id = r.server_id
        WHERE r.server_id = $1
        ORDER BY r.access_log_id COLLATE "C" DESC
        LIMIT $2 OFFSET $3`,
      [serverId, page.limit, page.offset],
    );
    return {
      total: rows.length > 0 ? (rows[0].total as number) : 0,
      items: rows.map((row) =>
        Object.assign(hydrate(this.dataSource, AccessLogEntity, row), {
          receipt: row.r_receipt,
          sealedScope: row.r_sealed_scope as Buffer | null,
        }),
      ),
    };
  }
}
