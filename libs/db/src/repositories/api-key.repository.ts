import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { ApiKeyEntity } from '../entities/api-key.entity';
import type { ServerEntity } from '../entities/server.entity';
import { hydrate } from './hydrate';
import { Params } from './internal/params';
import { columnsOf, prepared } from './prepared';

export type NewApiKey = Pick<
  ApiKeyEntity,
  'id' | 'name' | 'appAddress' | 'secretHash' | 'secretPrefix' | 'operations' | 'origins' | 'ratePerMinute'
>;

/** What app requests need of the key's server, read in the same query as the key. */
export type ApiKeyServer = Pick<
  ServerEntity,
  'id' | 'kind' | 'address' | 'publicKey' | 'ownerAddress' | 'kmsKeyRef' | 'policyKind' | 'policyAddress'
>;

/** What a presented secret matched: the key's current secret, or its previous one still within grace. */
export interface ApiKeyMatch {
  key: ApiKeyEntity;
  server: ApiKeyServer;
  matched: 'current' | 'previous';
}

/** API keys. Every method but the authentication lookup names the server (tenant) the key belongs to. */
@Injectable()
export class ApiKeyRepository {
  static readonly entities = [ApiKeyEntity];

  private keyColumns?: string;

  constructor(
    @InjectRepository(ApiKeyEntity) private readonly repo: Repository<ApiKeyEntity>,
    @InjectDataSource() private readonly ds: DataSource,
  ) {}

  /** A new key of the server. An id already taken is an error, never an update of that key. */
  async create(serverId: string, key: NewApiKey): Promise<ApiKeyEntity> {
    const entity = this.repo.create({
      ...key,
      serverId,
      expiresAt: null,
      revokedAt: null,
      rotatedFrom: null,
      previousSecretHash: null,
      previousSecretExpiresAt: null,
    });
    const inserted = await this.repo.insert(entity);
    entity.createdAt = (inserted.generatedMaps[0]?.createdAt as Date | undefined) ?? new Date();
    return entity;
  }

  find(serverId: string, keyId: string): Promise<ApiKeyEntity | null> {
    return this.repo.findOneBy({ serverId, id: keyId });
  }

  /**
   * The server's keys in id (creation) order, after `cursor`: up to `limit + 1` rows (one more tells there is a
   * next page). Ordered and compared as `id COLLATE "C"`, an order only api_keys_page_idx (server_id,
   * id COLLATE "C") has: the primary key cannot give it, so no plan walks every tenant's keys and filters out
   * the others', whatever the statistics say (docs/architecture.md#pages).
   */
  async list(serverId: string, page: { limit: number; cursor?: string }): Promise<ApiKeyEntity[]> {
    this.keyColumns ??= columnsOf(this.ds, ApiKeyEntity, 'k');
    const p = new Params();
    const where = [`k.server_id = ${p.add(serverId)}`];
    if (page.cursor) where.push(`k.id COLLATE "C" > ${p.add(page.cursor)}`);
    const rows: Array<Record<string, unknown>> = await this.repo.query(
      `SELECT ${this.keyColumns} FROM api_keys k WHERE ${where.join(' AND ')}
        ORDER BY k.id COLLATE "C" LIMIT ${p.add(page.limit + 1)}`,
      p.values,
    );
    return rows.map((row) => hydrate(this.ds, ApiKeyEntity, row));
  }

  /** Marks the key revoked (idempotent). False when the server has no such key. */
  async revoke(serverId: string, keyId: string): Promise<boolean> {
    const rows: unknown[] = await this.repo.query(
      `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE server_id = $1 AND id = $2 RETURNING id`,
      [serverId, keyId],
    );
    return rowCount(rows) > 0;
  }

  /**
   * Swaps in a new secret; the current one stays valid for `graceSeconds` (database clock). Only an
   * unrevoked key rotates; returns the updated key or null.
   */
  async rotate(
    serverId: string,
    keyId: string,
    next: { secretHash: Buffer; secretPrefix: string },
    graceSeconds: number,
  ): Promise<ApiKeyEntity | null> {
    const rows: unknown[] = await this.repo.query(
      `UPDATE api_keys
          SET previous_secret_hash = secret_hash,
              previous_secret_expires_at = now() + make_interval(secs => $5),
              secret_hash = $3,
              secret_prefix = $4
        WHERE server_id = $1 AND id = $2 AND revoked_at IS NULL
        RETURNING id`,
      [serverId, keyId, next.secretHash, next.secretPrefix, graceSeconds],
    );
    return rowCount(rows) > 0 ? this.find(serverId, keyId) : null;
  }

  /**
   * The app's newest usable key on the server (neither revoked nor expired), with the server's row: what an app
   * that proves its wallet instead of sending the secret (Web3Signed) runs under. Null when it has none.
   */
  async findActiveForApp(serverId: string, appAddress: string): Promise<ApiKeyMatch | null> {
    const rows = await prepared<Record<string, unknown>>(
      this.ds,
      'api_keys_active_for_app',
      `${this.keyWithServerSql()}
       WHERE k.server_id = $1 AND lower(k.app_address) = lower($2) AND k.revoked_at IS NULL
         AND (k.expires_at IS NULL OR k.expires_at > now())
       ORDER BY k.id COLLATE "C" DESC
       LIMIT 1`,
      [serverId, appAddress],
    );
    return rows.length === 0 ? null : this.matchOf(rows[0]);
  }

  /**
   * Authentication lookup by secret hash: the one method without a server id, since the key is what names
   * the tenant. A previous secret past its grace period matches nothing.
   */
  async findBySecretHash(secretHash: Buffer): Promise<ApiKeyMatch | null> {
    // A prepared statement, with the server's row: this runs on every app request.
    const rows = await prepared<Record<string, unknown>>(
      this.ds,
      'api_keys_authenticate',
      `${this.keyWithServerSql()}
       WHERE k.secret_hash = $1 OR (k.previous_secret_hash = $1 AND k.previous_secret_expires_at > now())
       LIMIT 1`,
      [secretHash],
    );
    return rows.length === 0 ? null : this.matchOf(rows[0], secretHash);
  }

  /** A key's columns (`k.`) and what authentication needs of its server (`s_…`). */
  private keyWithServerSql(): string {
    this.keyColumns ??= columnsOf(this.ds, ApiKeyEntity, 'k');
    return `SELECT ${this.keyColumns}, s.kind AS s_kind, s.owner_address AS s_owner_address, s.kms_key_ref AS s_kms_key_ref,
              s.policy_kind AS s_policy_kind, s.policy_address AS s_policy_address, s.address AS s_address,
              s.public_key AS s_public_key
       FROM api_keys k JOIN servers s ON s.id = k.server_id`;
  }

  /** `secretHash`: the secret that found it (which of the key's two it is); none for other credentials. */
  private matchOf(row: Record<string, unknown>, secretHash?: Buffer): ApiKeyMatch {
    const key = hydrate(this.ds, ApiKeyEntity, row);
    const matched = !secretHash || key.secretHash.equals(secretHash) ? 'current' : 'previous';
    const server: ApiKeyServer = {
      id: key.serverId,
      kind: row.s_kind as ServerEntity['kind'],
      ownerAddress: row.s_owner_address as string,
      kmsKeyRef: row.s_kms_key_ref as string,
      policyKind: row.s_policy_kind as ServerEntity['policyKind'],
      policyAddress: row.s_policy_address as string | null,
      address: row.s_address as string,
      publicKey: row.s_public_key as string,
    };
    return { key, server, matched };
  }
}

/** pg returns [rows, count] for UPDATE … RETURNING through TypeORM's query(). */
function rowCount(result: unknown[]): number {
  if (result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[1];
  return result.length;
}
