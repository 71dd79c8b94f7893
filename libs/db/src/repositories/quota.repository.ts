import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RelayUsageDailyEntity } from '../entities/relay-usage.entity';
import { prepared } from './prepared';

/** Where an account and a server stand against their quotas. */
export interface QuotaUsage {
  servers: number;
  collectives: number;
  relayedTransactionsToday: number;
  storedBytes: number;
}

/**
 * Quota counters. Spending is one conditional statement (race-safe without a lock); counts of servers and bytes
 * are read here, and enforced where the rows are written (ServerRepository.createCollective, FileRepository.upload).
 */
@Injectable()
export class QuotaRepository {
  static readonly entities = [RelayUsageDailyEntity];

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Counts one relayed transaction for the account today (UTC) when it has fewer than `limit`: true when spent.
   * Two racing requests at limit - 1 cannot both pass: the row's update is conditional on the count it locks.
   */
  async spendRelayedTransaction(accountId: string, limit: number): Promise<boolean> {
    const rows = await prepared<{ transactions: number }>(
      this.dataSource,
      'quota_spend_relayed',
      `INSERT INTO relay_usage_daily (account_id, day, transactions)
       SELECT $1, (now() AT TIME ZONE 'UTC')::date, 1 WHERE $2::int > 0
       ON CONFLICT (account_id, day) DO UPDATE SET transactions = relay_usage_daily.transactions + 1
         WHERE relay_usage_daily.transactions < $2::int
       RETURNING transactions`,
      [accountId, limit],
    );
    return rows.length > 0;
  }

  /** The account's server counts and relayed transactions today, and one of its servers' stored bytes. */
  async usage(accountId: string, serverId: string): Promise<QuotaUsage> {
    const rows = await prepared<{ servers: number; collectives: number; relayed: number; bytes: string }>(
      this.dataSource,
      'quota_usage',
      `SELECT (SELECT count(*)::int FROM servers WHERE owner_account_id = $1) AS servers,
              (SELECT count(*)::int FROM servers WHERE owner_account_id = $1 AND kind = 'collective') AS collectives,
              COALESCE((SELECT transactions FROM relay_usage_daily
                         WHERE account_id = $1 AND day = (now() AT TIME ZONE 'UTC')::date), 0) AS relayed,
              (SELECT COALESCE(sum(size), 0)::text FROM files WHERE server_id = $2 AND status = 'ready') AS bytes`,
      [accountId, serverId],
    );
    const r = rows[0];
    return {
      servers: r.servers,
      collectives: r.collectives,
      relayedTransactionsToday: r.relayed,
      storedBytes: Number(r.bytes),
    };
  }
}
