import { Injectable } from '@nestjs/common';
import {
  type AccessLogOutcomeFilter,
  AccessLogRepository,
  type Page,
  type PaginationQuery,
  UsageRepository,
} from '@hearth/db';
import { ProblemError } from '@hearth/errors';
import { getAddress } from 'viem';

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

@Injectable()
export class AccessLogService {
  constructor(
    private readonly accessLog: AccessLogRepository,
    private readonly usageCounters: UsageRepository,
  ) {}

  /**
   * Newest first. `memberAddress` restricts the view to what one collective member may see: the rows touching
   * their contributions, and their own reads; owners and admins pass null and see everything.
   */
  async list(
    serverId: string,
    page: PaginationQuery & { outcome?: AccessLogOutcomeFilter },
    memberAddress: string | null = null,
  ): Promise<Page<AccessLogView>> {
    const rows = await this.accessLog.list(serverId, page, memberAddress);
    const hasMore = rows.length > page.limit;
    const kept = rows.slice(0, page.limit);
    return {
      items: kept.map((r) => ({
        id: r.id,
        operationId: r.operationId,
        actor: /^0x[0-9a-fA-F]{40}$/.test(r.actor) ? getAddress(r.actor) : r.actor,
        apiKeyId: r.apiKeyId,
        grantId: r.grantId,
        operation: r.operation,
        fileIds: r.fileIds,
        outcome: r.outcome,
        code: r.code,
        blockNumber: r.blockNumber,
        receiptHash: r.receiptHash,
        receipt: r.receipt ?? null,
        createdAt: r.createdAt.toISOString(),
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
    const range = { from, to };
    const rows = await this.usageCounters.daily(serverId, range, {
      limit: q.limit,
      after: cursorDay && cursorKey ? { day: cursorDay, apiKeyId: cursorKey } : undefined,
    });
    const totals = await this.usageCounters.totals(serverId, range);
    const hasMore = rows.length > q.limit;
    const kept = rows.slice(0, q.limit);
    const last = kept[kept.length - 1];
    return {
      from,
      to,
      items: kept,
      nextCursor: hasMore && last ? `${last.day}|${last.apiKeyId}` : null,
      totals,
    };
  }
}
