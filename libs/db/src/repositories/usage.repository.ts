import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { UsageDailyEntity } from '../entities/usage.entity';

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
   * previous page): up to `limit + 1` rows (one more tells there is a next page).
   */
  async daily(
    serverId: string,
    range: DayRange,
    page: { limit: number; after?: { day: string; apiKeyId: string } },
  ): Promise<UsageDay[]> {
    const rows: Array<{
      day: string;
      api_key_id: string;
      operations: number;
      compute_ms: string;
      input_bytes: string;
    }> = await this.usage.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, api_key_id, operations, compute_ms, input_bytes FROM usage_daily
          WHERE server_id = $1 AND day BETWEEN $2::date AND $3::date
            AND ($4::date IS NULL OR (day, api_key_id) < ($4::date, $5::text) OR (day < $4::date))
          ORDER BY day DESC, api_key_id DESC LIMIT $6`,
      [serverId, range.from, range.to, page.after?.day ?? null, page.after?.apiKeyId ?? null, page.limit + 1],
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
