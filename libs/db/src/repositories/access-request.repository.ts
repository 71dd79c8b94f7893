import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { AccessRequestEntity, type AccessRequestState } from '../entities/access-request.entity';
import { ApiKeyEntity } from '../entities/api-key.entity';
import type { NewApiKey } from './api-key.repository';
import { hydrate } from './hydrate';
import { Params } from './internal/params';
import { columnsOf } from './prepared';

export type NewAccessRequest = Pick<
  AccessRequestEntity,
  | 'id'
  | 'appAddress'
  | 'appName'
  | 'operations'
  | 'fileIds'
  | 'allFiles'
  | 'grantExpiresAt'
  | 'purpose'
  | 'returnUrl'
  | 'origins'
  | 'nonce'
  | 'signature'
  | 'expiresAt'
>;

/** What a list may filter on: a stored state, or `expired` (pending past its expiry). */
export type AccessRequestStatusFilter = AccessRequestState | 'expired';

/**
 * Access requests. Every method names the server (tenant), but `findById`: a request's id is the capability the
 * app holds to read it, before it can know anything else of the server.
 */
@Injectable()
export class AccessRequestRepository {
  static readonly entities = [AccessRequestEntity, ApiKeyEntity];

  private columns?: string;

  constructor(
    @InjectRepository(AccessRequestEntity) private readonly repo: Repository<AccessRequestEntity>,
    @InjectDataSource() private readonly ds: DataSource,
  ) {}

  /**
   * A new pending request of the server; null when its nonce was used before (a replayed signed request),
   * decided by the unique index in the same statement, so two concurrent filings cannot both succeed.
   */
  async create(serverId: string, request: NewAccessRequest): Promise<AccessRequestEntity | null> {
    this.columns ??= columnsOf(this.ds, AccessRequestEntity, 'r');
    const rows: Array<Record<string, unknown>> = await this.repo.query(
      `INSERT INTO access_requests AS r (id, server_id, app_address, app_name, operations, file_ids, all_files,
              grant_expires_at, purpose, return_url, origins, nonce, signature, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT ON CONSTRAINT access_requests_nonce_key DO NOTHING
       RETURNING ${this.columns}`,
      [
        request.id,
        serverId,
        request.appAddress.toLowerCase(),
        request.appName,
        request.operations,
        request.fileIds,
        request.allFiles,
        request.grantExpiresAt,
        request.purpose,
        request.returnUrl,
        request.origins,
        request.nonce,
        request.signature,
        request.expiresAt,
      ],
    );
    return rows.length > 0 ? hydrate(this.ds, AccessRequestEntity, rows[0]) : null;
  }

  find(serverId: string, requestId: string): Promise<AccessRequestEntity | null> {
    return this.repo.findOneBy({ serverId, id: requestId });
  }

  /** By id alone: the app's status poll and key claim (the id names the tenant). */
  findById(requestId: string): Promise<AccessRequestEntity | null> {
    return this.repo.findOneBy({ id: requestId });
  }

  /**
   * The server's requests in id (filing) order after `cursor`, optionally in one status: up to `limit + 1` rows.
   * Ordered and compared as `id COLLATE "C"`, the order of the tenant-leading indexes.
   */
  async list(
    serverId: string,
    page: { limit: number; cursor?: string; status?: AccessRequestStatusFilter },
  ): Promise<AccessRequestEntity[]> {
    this.columns ??= columnsOf(this.ds, AccessRequestEntity, 'r');
    const p = new Params();
    const where = [`r.server_id = ${p.add(serverId)}`];
    if (page.status === 'expired') where.push(`r.status = 'pending'`, `r.expires_at <= now()`);
    else if (page.status === 'pending') where.push(`r.status = 'pending'`, `r.expires_at > now()`);
    else if (page.status) where.push(`r.status = ${p.add(page.status)}`);
    if (page.cursor) where.push(`r.id COLLATE "C" > ${p.add(page.cursor)}`);
    const rows: Array<Record<string, unknown>> = await this.repo.query(
      `SELECT ${this.columns} FROM access_requests r WHERE ${where.join(' AND ')}
        ORDER BY r.id COLLATE "C" LIMIT ${p.add(page.limit + 1)}`,
      p.values,
    );
    return rows.map((row) => hydrate(this.ds, AccessRequestEntity, row));
  }

  /** Pending and unexpired → denied; the updated request, or null when it was not pending (or lapsed). */
  async deny(serverId: string, requestId: string): Promise<AccessRequestEntity | null> {
    this.columns ??= columnsOf(this.ds, AccessRequestEntity, 'r');
    const rows: unknown = await this.repo.query(
      `UPDATE access_requests r SET status = 'denied', decided_at = now()
        WHERE r.server_id = $1 AND r.id = $2 AND r.status = 'pending' AND r.expires_at > now()
        RETURNING ${this.columns}`,
      [serverId, requestId],
    );
    const updated = returned(rows);
    return updated ? hydrate(this.ds, AccessRequestEntity, updated) : null;
  }

  /**
   * Pending and unexpired → approved with its grant, and the app's API key created, in one transaction: either
   * both or neither. Null (nothing written) when the request was not pending or had lapsed.
   */
  async approveWithKey(
    serverId: string,
    requestId: string,
    grantId: string,
    key: NewApiKey,
  ): Promise<AccessRequestEntity | null> {
    this.columns ??= columnsOf(this.ds, AccessRequestEntity, 'r');
    const columns = this.columns;
    return this.ds.transaction(async (m) => {
      const locked: unknown[] = await m.query(
        `SELECT id FROM access_requests
          WHERE server_id = $1 AND id = $2 AND status = 'pending' AND expires_at > now() FOR UPDATE`,
        [serverId, requestId],
      );
      if (locked.length === 0) return null;
      await m.query(
        `INSERT INTO api_keys (id, server_id, name, app_address, secret_hash, secret_prefix, operations, origins,
                rate_per_minute)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          key.id,
          serverId,
          key.name,
          key.appAddress.toLowerCase(),
          key.secretHash,
          key.secretPrefix,
          key.operations,
          key.origins,
          key.ratePerMinute,
        ],
      );
      const rows: unknown = await m.query(
        `UPDATE access_requests r SET status = 'approved', decided_at = now(), grant_id = $3, key_id = $4
          WHERE r.server_id = $1 AND r.id = $2 RETURNING ${columns}`,
        [serverId, requestId, grantId, key.id],
      );
      const updated = returned(rows);
      return updated ? hydrate(this.ds, AccessRequestEntity, updated) : null;
    });
  }

  /**
   * The one delivery of an approved request's key: marks it claimed and gives its key the new secret (hash only;
   * the secret set at approval was never shown), in one transaction. Null (nothing written) when the request is
   * not approved, was claimed before, or its key is gone or revoked.
   */
  async claimKey(
    serverId: string,
    requestId: string,
    secret: { secretHash: Buffer; secretPrefix: string },
  ): Promise<{ keyId: string } | null> {
    return this.ds
      .transaction(async (m) => {
        const claimed = returned(
          await m.query(
            `UPDATE access_requests SET key_claimed_at = now()
            WHERE server_id = $1 AND id = $2 AND status = 'approved' AND key_claimed_at IS NULL
              AND key_id IS NOT NULL
            RETURNING key_id`,
            [serverId, requestId],
          ),
        ) as { key_id: string } | undefined;
        if (!claimed) return null;
        const updated = returned(
          await m.query(
            `UPDATE api_keys SET secret_hash = $3, secret_prefix = $4, previous_secret_hash = NULL,
                  previous_secret_expires_at = NULL
            WHERE server_id = $1 AND id = $2 AND revoked_at IS NULL
            RETURNING id`,
            [serverId, claimed.key_id, secret.secretHash, secret.secretPrefix],
          ),
        );
        if (!updated) throw new KeyNotClaimable();
        return { keyId: claimed.key_id };
      })
      .catch((err: unknown) => {
        if (err instanceof KeyNotClaimable) return null;
        throw err;
      });
  }
}

/** Rolls the claim back when the key was revoked (or deleted) between approval and claim. */
class KeyNotClaimable extends Error {}

/** The first row an UPDATE … RETURNING gave (TypeORM's query() answers [rows, count] for updates). */
function returned(result: unknown): Record<string, unknown> | undefined {
  if (!Array.isArray(result)) return undefined;
  const rows: unknown = result.length === 2 && typeof result[1] === 'number' ? result[0] : result;
  return Array.isArray(rows) && rows.length > 0 ? (rows[0] as Record<string, unknown>) : undefined;
}
