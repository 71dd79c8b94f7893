import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { newId } from '@hearth/ids';
import { DataSource, Repository } from 'typeorm';
import { AccessLogEntity } from '../entities/access-log.entity';
import { hydrate } from './hydrate';
import { outcomeEventsSql } from './internal/event-sql';
import { Params } from './internal/params';
import { columnsOf, prepared } from './prepared';

/** A row to append: the id, the server and the time are the repository's. */
export type NewAccessLogEntry = Omit<AccessLogEntity, 'id' | 'serverId' | 'createdAt'>;

/** One file read by its owner or a collective member: the access-log row of a download. */
export interface NewDownloadEntry {
  serverId: string;
  fileId: string;
  actor: string;
}

/** `denied`: refused attempts; `allowed`: everything that went through (reads, operations that ran). */
export type AccessLogOutcomeFilter = 'denied' | 'allowed';

/**
 * An access-log row with its receipt: its operation's, or a Data Portability read's (null when it has none, e.g. a
 * download).
 */
export interface AccessLogEntry extends AccessLogEntity {
  receipt: unknown;
}

/**
 * The access log: one row per decryption of tenant data and per denial, append-only. Every method names the
 * server (tenant) first. Operation outcomes are logged by OperationRepository.finish in the same statement.
 */
@Injectable()
export class AccessLogRepository {
  static readonly entities = [AccessLogEntity];

  private logColumns?: string;

  constructor(
    @InjectRepository(AccessLogEntity) private readonly log: Repository<AccessLogEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * One INSERT, a prepared statement: every download writes one, while its bytes stream. A refusal
   * (`denied`) records the owner's `operation.denied` event (and `grant.expired`, once per grant) in the same
   * statement.
   */
  async append(serverId: string, entry: NewAccessLogEntry): Promise<AccessLogEntity> {
    const row = this.log.create({ ...entry, id: newId('log'), serverId });
    const [inserted] = await prepared<{ created_at: Date }>(
      this.dataSource,
      'access_log_append',
      `WITH logged AS (
         INSERT INTO access_log (id, server_id, operation_id, actor, api_key_id, grant_id, operation, file_ids,
                                 outcome, code, block_number, receipt_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         RETURNING server_id, operation_id, operation, actor AS app_address, api_key_id, grant_id, outcome,
                   created_at
       ), refused AS (
         SELECT server_id, operation_id, operation, app_address, api_key_id, grant_id FROM logged
          WHERE outcome = 'denied'
       ), ${outcomeEventsSql('refused', '$9', '$10', '$13', '$14')}
       SELECT created_at FROM logged`,
      [
        row.id,
        serverId,
        row.operationId,
        row.actor,
        row.apiKeyId,
        row.grantId,
        row.operation,
        row.fileIds,
        row.outcome,
        row.code,
        row.blockNumber,
        row.receiptHash,
        newId('evt'),
        newId('evt'),
      ],
    );
    row.createdAt = inserted.created_at;
    return row;
  }

  /**
   * Download rows of any servers, many in one INSERT (one prepared statement whatever their number): the files
   * API writes every read's row this way, a batch at a time, so a busy server commits once per batch rather
   * than once per read. Each row names its own server (tenant); a download records no event.
   */
  async appendDownloads(rows: ReadonlyArray<NewDownloadEntry>): Promise<void> {
    if (rows.length === 0) return;
    await prepared(
      this.dataSource,
      'access_log_append_downloads',
      `INSERT INTO access_log (id, server_id, actor, operation, file_ids, outcome)
       SELECT id, server_id, actor, 'download', ARRAY[file_id], 'read'
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(id, server_id, actor, file_id)`,
      [
        rows.map(() => newId('log')),
        rows.map((r) => r.serverId),
        rows.map((r) => r.actor.toLowerCase()),
        rows.map((r) => r.fileId),
      ],
    );
  }

  /**
   * Newest first, after `cursor` (an id): up to `limit + 1` rows (one more tells there is a next page).
   * `memberAddress` (lowercase) narrows it to what one collective member may see: the rows touching files they
   * contributed, and their own reads; null for everything.
   *
   * Ordered and compared as `id COLLATE "C"`, an order only access_log_page_idx (server_id, id COLLATE "C") has:
   * the primary key cannot give it, so no plan walks the newest ids of every tenant and filters out the others'
   * rows, whatever the statistics say (docs/architecture.md#pages). The member filter runs on this tenant's rows
   * only, each row's files by primary key.
   */
  async list(
    serverId: string,
    page: { limit: number; cursor?: string; outcome?: AccessLogOutcomeFilter },
    memberAddress: string | null = null,
  ): Promise<AccessLogEntry[]> {
    this.logColumns ??= columnsOf(this.dataSource, AccessLogEntity, 'l');
    const p = new Params();
    const server = p.add(serverId);
    const where = [`l.server_id = ${server}`];
    // Literal predicates, the very ones of the partial page indexes (access_log_denied_page_idx,
    // access_log_allowed_page_idx), so even a generic plan can use them.
    if (page.outcome === 'denied') where.push(`l.outcome = 'denied'`);
    if (page.outcome === 'allowed') where.push(`l.outcome <> 'denied'`);
    if (page.cursor) where.push(`l.id COLLATE "C" < ${p.add(page.cursor)}`);
    if (memberAddress !== null) {
      const member = p.add(memberAddress);
      // Each row's own files, looked up by primary key: a set of the member's files would be planned from the
      // statistics (a sequential scan of every tenant's files once they say the member contributed a lot).
      where.push(`(l.actor = ${member} OR EXISTS (
                SELECT 1 FROM files f
                 WHERE f.id = ANY(l.file_ids) AND f.server_id = ${server} AND f.contributor_address = ${member}))`);
    }
    const rows: Array<Record<string, unknown>> = await this.log.query(
      `SELECT ${this.logColumns}, COALESCE(o.receipt, r.receipt) AS receipt
         FROM access_log l LEFT JOIN operations o ON o.id = l.operation_id AND o.server_id = l.server_id
         LEFT JOIN dp_access_receipts r ON r.access_log_id = l.id AND r.server_id = l.server_id
        WHERE ${where.join(' AND ')}
        ORDER BY l.id COLLATE "C" DESC LIMIT ${p.add(page.limit + 1)}`,
      p.values,
    );
    return rows.map((row) =>
      Object.assign(hydrate(this.dataSource, AccessLogEntity, row), { receipt: row.receipt ?? null }),
    );
  }
}
