import { Injectable } from '@nestjs/common';
import { firstIdAt } from '@hearth/ids';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { SessionEntity } from '../entities/session.entity';

export interface ActiveSession {
  sessionId: string;
  accountId: string;
  /** Lowercase. */
  address: string;
  expiresAt: Date;
}

/** Owner sessions. Only SHA-256 hashes of bearer tokens are stored or looked up. */
@Injectable()
export class SessionRepository {
  static readonly entities = [SessionEntity];

  constructor(@InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>) {}

  async create(s: {
    id: string;
    accountId: string;
    tokenHash: Buffer;
    expiresAt: Date;
  }): Promise<SessionEntity> {
    // One INSERT … RETURNING: save() would add a SELECT and its own transaction to every sign-in.
    const entity = this.sessions.create({ ...s, revokedAt: null });
    const inserted = await this.sessions.insert(entity);
    entity.createdAt = (inserted.generatedMaps[0]?.createdAt as Date | undefined) ?? new Date();
    return entity;
  }

  /** The session a token hash names, when it is neither revoked nor expired (judged by the database clock). */
  async findActive(tokenHash: Buffer): Promise<ActiveSession | null> {
    const rows: Array<{ id: string; account_id: string; address: string; expires_at: Date }> =
      await this.sessions.query(
        `SELECT s.id, s.account_id, a.address, s.expires_at
         FROM sessions s JOIN accounts a ON a.id = s.account_id
        WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()`,
        [tokenHash],
      );
    const row = rows[0];
    return row
      ? { sessionId: row.id, accountId: row.account_id, address: row.address, expiresAt: row.expires_at }
      : null;
  }

  /**
   * Maintenance sweep (every account): deletes up to `limit` sessions that expired or were revoked before
   * `endedBefore`. A session ends after it starts, so only ids made before then are looked at.
   */
  async purgeEndedBefore(endedBefore: Date, limit: number): Promise<number> {
    const result: [unknown[], number] = await this.sessions.query(
      `DELETE FROM sessions WHERE id IN (
         SELECT id FROM sessions
          WHERE id < $1 AND (expires_at < $2 OR revoked_at < $2)
          LIMIT $3)`,
      [firstIdAt('ses', endedBefore), endedBefore, limit],
    );
    return result[1];
  }

  /** Signs one session of the account out; another account's session is left alone. */
  async revoke(accountId: string, sessionId: string): Promise<void> {
    await this.sessions.query(
      `UPDATE sessions SET revoked_at = now() WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL`,
      [sessionId, accountId],
    );
  }
}
