import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { FileIndexEntity } from '../entities/file-index.entity';
import { prepared } from './prepared';

/** What the indexing job needs to read a file: its sealed metadata, wrapped keys and where its chunks are. */
export interface FileToIndex {
  fileId: string;
  sealedName: Buffer;
  sealedContentType: Buffer;
  encryption: 'server' | 'client';
  wrappedDataKey: Buffer | null;
  /** The key that wrapped the data key (a collective member's), else the server's tenant key. */
  kmsKeyRef: string;
  /** The server's tenant key (wraps its metadata key). */
  serverKmsKeyRef: string;
  ciphertextSha256: string;
  size: number;
  wrappedMetadataKey: Buffer | null;
  /** Whether an index of this file version is already stored (ready or failed). */
  indexed: boolean;
}

export interface StoredIndex {
  ciphertextSha256: string;
  formatVersion: number;
  /** Names this build of the index (file id and build time): a copy under this version is this index. */
  version: string;
  /** Null when the caller said it holds this version already (`held`). */
  sealedIndex: Buffer | null;
}

export interface IndexOutcome {
  ciphertextSha256: string;
  formatVersion: number;
  sealedIndex: Buffer | null;
  records: number;
  errorCode: string | null;
}

/** Record indexes of files (sealed; see FileIndexEntity). Every method names the server. */
@Injectable()
export class FileIndexRepository {
  static readonly entities = [FileIndexEntity];

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The ready file with what indexing it takes, or null when it is gone, still uploading or not this server's. */
  async loadForIndexing(serverId: string, fileId: string): Promise<FileToIndex | null> {
    const rows = await prepared<{
      id: string;
      sealed_name: Buffer;
      sealed_content_type: Buffer;
      encryption: 'server' | 'client';
      wrapped_data_key: Buffer | null;
      kms_key_ref: string;
      server_kms_key_ref: string;
      ciphertext_sha256: string | null;
      size: string;
      wrapped_metadata_key: Buffer | null;
      indexed: boolean;
    }>(
      this.dataSource,
      'file_indexes_load_for_indexing',
      `SELECT f.id, f.sealed_name, f.sealed_content_type, f.encryption, f.wrapped_data_key,
              coalesce(f.kms_key_ref, s.kms_key_ref) AS kms_key_ref, s.kms_key_ref AS server_kms_key_ref,
              f.ciphertext_sha256, f.size,
              mk.wrapped_key AS wrapped_metadata_key,
              EXISTS (SELECT 1 FROM file_indexes i WHERE i.file_id = f.id AND i.ciphertext_sha256 = f.ciphertext_sha256)
                AS indexed
         FROM files f
         JOIN servers s ON s.id = f.server_id
         LEFT JOIN server_metadata_keys mk ON mk.server_id = f.server_id
        WHERE f.server_id = $1 AND f.id = $2 AND f.status = 'ready'`,
      [serverId, fileId],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      fileId: r.id,
      sealedName: r.sealed_name,
      sealedContentType: r.sealed_content_type,
      encryption: r.encryption,
      wrappedDataKey: r.wrapped_data_key,
      kmsKeyRef: r.kms_key_ref,
      serverKmsKeyRef: r.server_kms_key_ref,
      ciphertextSha256: r.ciphertext_sha256 ?? '',
      size: Number(r.size),
      wrappedMetadataKey: r.wrapped_metadata_key,
      indexed: r.indexed,
    };
  }

  /**
   * Stores the index of a file version, replacing an older version's. Written only while the file still exists
   * with that version (a file deleted while it was indexed leaves nothing behind); false otherwise.
   */
  async save(serverId: string, fileId: string, outcome: IndexOutcome): Promise<boolean> {
    const rows = await prepared<{ file_id: string }>(
      this.dataSource,
      'file_indexes_save',
      `INSERT INTO file_indexes (file_id, server_id, ciphertext_sha256, status, format_version, sealed_index, records,
                                 error_code, built_at)
       SELECT f.id, f.server_id, $3, $4, $5, $6, $7, $8, now()
         FROM files f WHERE f.server_id = $1 AND f.id = $2 AND f.ciphertext_sha256 = $3
       ON CONFLICT (file_id) DO UPDATE
          SET ciphertext_sha256 = EXCLUDED.ciphertext_sha256, status = EXCLUDED.status,
              format_version = EXCLUDED.format_version, sealed_index = EXCLUDED.sealed_index,
              records = EXCLUDED.records, error_code = EXCLUDED.error_code, built_at = EXCLUDED.built_at
       RETURNING file_id`,
      [
        serverId,
        fileId,
        outcome.ciphertextSha256,
        outcome.sealedIndex ? 'ready' : 'failed',
        outcome.formatVersion,
        outcome.sealedIndex,
        outcome.records,
        outcome.errorCode,
      ],
    );
    return rows.length === 1;
  }

  /**
   * The ready indexes of these files that match each file's current version, by file id. `held`: versions the
   * caller keeps a copy of (sealed, as stored); their sealed bytes are not sent again, only confirmed current.
   */
  async readyFor(
    serverId: string,
    fileIds: readonly string[],
    held: readonly string[] = [],
  ): Promise<Map<string, StoredIndex>> {
    const out = new Map<string, StoredIndex>();
    if (fileIds.length === 0) return out;
    const rows = await prepared<{
      file_id: string;
      ciphertext_sha256: string;
      format_version: number;
      version: string;
      sealed_index: Buffer | null;
    }>(
      this.dataSource,
      'file_indexes_ready_for',
      `SELECT i.file_id, i.ciphertext_sha256, i.format_version, v.version,
              CASE WHEN v.version = ANY($3::text[]) THEN NULL ELSE i.sealed_index END AS sealed_index
         FROM file_indexes i
         JOIN files f ON f.id = i.file_id AND f.server_id = i.server_id AND f.ciphertext_sha256 = i.ciphertext_sha256
         CROSS JOIN LATERAL (
           SELECT i.file_id || '@' || (extract(epoch FROM i.built_at) * 1000000)::bigint::text AS version) v
        WHERE i.server_id = $1 AND i.file_id = ANY($2::text[]) AND i.status = 'ready'`,
      [serverId, fileIds, held],
    );
    for (const r of rows) {
      out.set(r.file_id, {
        ciphertextSha256: r.ciphertext_sha256,
        formatVersion: r.format_version,
        version: r.version,
        sealedIndex: r.sealed_index,
      });
    }
    return out;
  }

  /** Status of a file's index (counts and codes only), or null when none is stored for its current version. */
  async status(
    serverId: string,
    fileId: string,
  ): Promise<{ status: 'ready' | 'failed'; records: number; errorCode: string | null } | null> {
    const rows = await prepared<{ status: 'ready' | 'failed'; records: number; error_code: string | null }>(
      this.dataSource,
      'file_indexes_status',
      `SELECT i.status, i.records, i.error_code
         FROM file_indexes i JOIN files f ON f.id = i.file_id AND f.ciphertext_sha256 = i.ciphertext_sha256
        WHERE i.server_id = $1 AND i.file_id = $2`,
      [serverId, fileId],
    );
    const r = rows[0];
    return r ? { status: r.status, records: r.records, errorCode: r.error_code } : null;
  }
}
