import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { UsageDailyEntity } from '../entities/usage.entity';
import { Params } from './internal/params';

/** One API key's usage on one UTC day. */
export interface UsageDay {
  /** YYYY-MM-DD. */
  day: string;
  apiKeyId: string;
  operations: number;
  computeMs: number;
  inputBytes: number;
}

export interface UsageTotals {
  operations: number;
  computeMs: number;
  inputBytes: number;
}

/** Days are inclusive dates, YYYY-MM-DD. */
export interface DayRange {
  from: string;
  to: string;
}

/**
 * Usage counters per server, API key and UTC day (written by OperationRepository.finish with each outcome).
 * Every method names the server (tenant) first.
 */
@Injectable()
export class UsageRepository {
  static readonly entities = [UsageDailyEntity];

  constructor(@InjectRepository(UsageDailyEntity) private readonly usage: Repository<UsageDailyEntity>) {}

  /**
   * Days in the range, newest first and by key (descending) within a day, after `after` (the last row of the
   * previous page): up to `limit + 1` rows (one more tells there is a next page). Served by usage_daily_page_idx
   * (server_id, day, api_key_id), the only index in that order, so a page reads `limit + 1` of the tenant's rows
   * rather than sorting all of them (docs/architecture.md#pages).
   */
  async daily(
    serverId: string,
    range: DayRange,
    page: { limit: number; after?: { day: string; apiKeyId: string } },
  ): Promise<UsageDay[]> {
    const p = new Params();
    const where = [
      `server_id = ${p.add(serverId)}`,
      `day BETWEEN ${p.add(range.from)}::date AND ${p.add(range.to)}::date`,
    ];
    if (page.after) {
      where.push(`(day, api_key_id) < (${p.add(page.after.day)}::date, ${p.add(page.after.apiKeyId)}::text)`);
    }
    const rows: Array<{
      day: string;
      api_key_id: string;
      operations: number;
      compute_ms: string;
      input_bytes: string;
    }> = await this.usage.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, api_key_id, operations, compute_ms, input_bytes FROM usage_daily
        WHERE ${where.join(' AND ')}
        ORDER BY day DESC, api_key_id DESC LIMIT ${p.add(page.limit + 1)}`,
      p.values,
    );
    return rows.map((r) => ({
      day: r.day,
      apiKeyId: r.api_key_id,
      operations: r.operations,
      computeMs: Number(r.compute_ms),
      inputBytes: Number(r.input_bytes),
    }));
  }

  /** Sums over the whole range (every key). */
  async totals(serverId: string, range: DayRange): Promise<UsageTotals> {
    const rows: Array<{
      operations: string | null;
      compute_ms: string | null;
      input_bytes: string | null;
    }> = await this.usage.query(
      `SELECT sum(operations) AS operations, sum(compute_ms) AS compute_ms, sum(input_bytes) AS input_bytes
         FROM usage_daily WHERE server_id = $1 AND day BETWEEN $2::date AND $3::date`,
      [serverId, range.from, range.to],
    );
    return {
      operations: Number(rows[0]?.operations ?? 0),
      computeMs: Number(rows[0]?.compute_ms ?? 0),
      inputBytes: Number(rows[0]?.input_bytes ?? 0),
    };
  }
}
