import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { MetadataKeyEntity } from '../entities/metadata-key.entity';
import { prepared } from './prepared';

/** Servers' wrapped metadata keys (never an unwrapped one). Every method names the server. */
@Injectable()
export class MetadataKeyRepository {
  static readonly entities = [MetadataKeyEntity];

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The server's wrapped metadata key, or null when it has none yet. */
  async find(serverId: string): Promise<Buffer | null> {
    const rows = await prepared<{ wrapped_key: Buffer }>(
      this.dataSource,
      'metadata_keys_find',
      `SELECT wrapped_key FROM server_metadata_keys WHERE server_id = $1`,
      [serverId],
    );
    return rows[0]?.wrapped_key ?? null;
  }

  /**
   * Stores `wrapped` as the server's key unless it already has one, and returns the key that is stored: two
   * replicas creating a key at once both end up with the same one. Null when the server does not exist.
   */
  async findOrInsert(serverId: string, wrapped: Buffer): Promise<Buffer | null> {
    const rows = await prepared<{ wrapped_key: Buffer }>(
      this.dataSource,
      'metadata_keys_find_or_insert',
      `WITH ins AS (
         INSERT INTO server_metadata_keys (server_id, wrapped_key)
         SELECT id, $2 FROM servers WHERE id = $1
         ON CONFLICT (server_id) DO NOTHING
         RETURNING wrapped_key
       )
       SELECT wrapped_key FROM ins
       UNION ALL
       SELECT wrapped_key FROM server_metadata_keys WHERE server_id = $1
       LIMIT 1`,
      [serverId, wrapped],
    );
    // A racing insert that committed after this statement's snapshot: read it with a fresh one.
    return rows[0]?.wrapped_key ?? this.find(serverId);
  }
}
