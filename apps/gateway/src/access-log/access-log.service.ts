import { Injectable } from '@nestjs/common';
import { type Page, type PaginationQuery } from '@hearth/db';
import { ProblemError } from '@hearth/errors';
import { getAddress } from 'viem';
import { DataSource } from 'typeorm';

export interface AccessLogView {
  id: string;
  operationId: string | null;
  actor: string;
  apiKeyId: string | null;
  grantId: string | null;
  operation: string | null;
  fileIds: string[];
  outcome: string;
  code: string | null;
  blockNumber: string | null;
  receiptHash: string | null;
  receipt: unknown;
  createdAt: string;
}

export interface UsageRow {
  day: string;
  apiKeyId: string;
  operations: number;
  computeMs: number;
  inputBytes: number;
}

export interface UsageView {
  from: string;
  to: string;
  items: UsageRow[];
  nextCursor: string | null;
  totals: { operations: number; computeMs: number; inputBytes: number };
}

const MAX_RANGE_DAYS = 366;

interface AccessLogRow {
  id: string;
  operation_id: string | null;
  actor: string;
  api_key_id: string | null;
  grant_id: string | null;
  operation: string | null;
  file_ids: string[];
  outcome: string;
  code: string | null;
  block_number: string | null;
  receipt_hash: string | null;
  receipt: unknown;
  created_at: Date;
}

@Injectable()
export class AccessLogService {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Newest first. `memberAddress` restricts the view to what one collective member may see: the rows touching
   * their contributions, and their own reads; owners and admins pass null and see everything.
   */
  async list(
    serverId: string,
    page: PaginationQuery,
    memberAddress: string | null = null,
  ): Promise<Page<AccessLogView>> {
    const rows: AccessLogRow[] = await this.dataSource.query(
      `SELECT l.*, o.receipt FROM access_log l LEFT JOIN operations o ON o.id = l.operation_id AND o.server_id = l.server_id
        WHERE l.server_id = $1 AND ($2::text IS NULL OR l.id < $2)
          AND ($4::text IS NULL OR l.actor = $4 OR l.file_ids && ARRAY(
                SELECT f.id FROM files f WHERE f.server_id = $1 AND f.contributor_address = $4))
        ORDER BY l.id DESC LIMIT $3`,
      [serverId, page.cursor ?? null, page.limit + 1, memberAddress],
    );
    const hasMore = rows.length > page.limit;
    const kept = rows.slice(0, page.limit);
    return {
      items: kept.map((r) => ({
        id: r.id,
        operationId: r.operation_id,
        actor: /^0x[0-9a-fA-F]{40}$/.test(r.actor) ? getAddress(r.actor) : r.actor,
        apiKeyId: r.api_key_id,
        grantId: r.grant_id,
        operation: r.operation,
        fileIds: r.file_ids,
        outcome: r.outcome,
        code: r.code,
        blockNumber: r.block_number,
        receiptHash: r.receipt_hash,
        receipt: r.receipt ?? null,
        createdAt: r.created_at.toISOString(),
      })),
      nextCursor: hasMore ? kept[kept.length - 1].id : null,
    };
  }

  async usage(
    serverId: string,
    q: { from?: string; to?: string; limit: number; cursor?: string },
  ): Promise<UsageView> {
    const today = new Date().toISOString().slice(0, 10);
    const to = q.to ?? today;
    const from =
      q.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86400_000).toISOString().slice(0, 10);
    const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86400_000;
    if (!(span >= 0))
      throw ProblemError.validation([
        { field: 'query.from', code: 'invalid_range', message: 'from must not be after to' },
      ]);
    if (span > MAX_RANGE_DAYS) {
      throw ProblemError.validation([
        { field: 'query.from', code: 'range_too_large', message: `at most ${MAX_RANGE_DAYS} days` },
      ]);
    }
    // Cursor: "<day>|<apiKeyId>" of the last row seen, rows ordered by day desc then key.
    const [cursorDay, cursorKey] = q.cursor ? q.cursor.split('|') : [null, null];
    if (q.cursor && !(cursorDay && /^\d{4}-\d{2}-\d{2}$/.test(cursorDay) && cursorKey)) {
      throw ProblemError.validation([
        { field: 'query.cursor', code: 'invalid', message: 'must be a cursor returned by a previous page' },
      ]);
    }
    const rows: Array<{
      day: string;
      api_key_id: string;
      operations: number;
      compute_ms: string;
      input_bytes: string;
    }> = await this.dataSource.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, api_key_id, operations, compute_ms, input_bytes FROM usage_daily
          WHERE server_id = $1 AND day BETWEEN $2::date AND $3::date
            AND ($4::date IS NULL OR (day, api_key_id) < ($4::date, $5::text) OR (day < $4::date))
          ORDER BY day DESC, api_key_id DESC LIMIT $6`,
      [serverId, from, to, cursorDay, cursorKey, q.limit + 1],
    );
    const totalsRow: Array<{
      operations: string | null;
      compute_ms: string | null;
      input_bytes: string | null;
    }> = await this.dataSource.query(
      `SELECT sum(operations) AS operations, sum(compute_ms) AS compute_ms, sum(input_bytes) AS input_bytes
         FROM usage_daily WHERE server_id = $1 AND day BETWEEN $2::date AND $3::date`,
      [serverId, from, to],
    );
    const hasMore = rows.length > q.limit;
    const kept = rows.slice(0, q.limit);
    const last = kept[kept.length - 1];
    return {
      from,
      to,
      items: kept.map((r) => ({
        day: r.day,
        apiKeyId: r.api_key_id,
        operations: r.operations,
        computeMs: Number(r.compute_ms),
        inputBytes: Number(r.input_bytes),
      })),
      nextCursor: hasMore && last ? `${last.day}|${last.api_key_id}` : null,
      totals: {
        operations: Number(totalsRow[0]?.operations ?? 0),
        computeMs: Number(totalsRow[0]?.compute_ms ?? 0),
        inputBytes: Number(totalsRow[0]?.input_bytes ?? 0),
      },
    };
  }
}
