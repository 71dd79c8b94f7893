import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import type { BlobStore } from '@hearth/blobs';
import { DataSource, type EntityManager, Repository } from 'typeorm';
import { BLOB_STORE } from '../blob-store';
import { FileEntity } from '../entities/file.entity';
import { hydrate } from './hydrate';
import { deleteFilesIn } from './internal/file-rows';
import { Params } from './internal/params';
import { columnsOf, prepared } from './prepared';
import { QuotaExceededError } from './quota-exceeded';
import type { ServerRole } from './server.repository';

/** What an upload knows of its file before the first byte arrives. */
export type NewFile = Pick<
  FileEntity,
  | 'id'
  | 'sealedName'
  | 'sealedContentType'
  | 'encryption'
  | 'wrappedDataKey'
  | 'kmsKeyRef'
  | 'contributorAddress'
>;

/** Stores an upload's sealed chunks in order, inside the upload's transaction. */
export interface ChunkWriter {
  put(sealed: Buffer): Promise<void>;
}

/** What the upload measured once its body ended. */
export interface UploadedStats {
  /** Plaintext bytes (server encryption) or envelope bytes (client encryption). */
  size: number;
  /** SHA-256 (hex) over the stored chunks, for receipts. */
  ciphertextSha256: string;
}

/** Files of at most this many chunks are read with their metadata, in one round trip. */
export const READ_INLINE_CHUNKS = 16;

/** What one statement tells a reader of a file: who they are, what they may see, and the file itself. */
export type FileForReader =
  | { found: 'no-session' }
  | { found: 'no-server'; session: { accountId: string; address: string } }
  | {
      found: 'server';
      session: { accountId: string; address: string };
      role: ServerRole;
      /** The server's tenant key (file keys of contributions may name a member key instead). */
      serverKmsKeyRef: string;
      /** A collective's contributions are readable by their contributor only, whatever the reader's role. */
      serverKind: 'personal' | 'collective';
      /** Null when the server has no ready file by that id. */
      file: FileEntity | null;
      /** The file's sealed chunks in order when it has at most READ_INLINE_CHUNKS of them. */
      chunks: Buffer[] | null;
    };

/**
 * Files and their sealed chunks (kept by the blob store). Every method names the tenant (server) first, and
 * only that server's rows are read or changed. Readers see ready files only.
 */
@Injectable()
export class FileRepository {
  static readonly entities = [FileEntity];

  private fileColumns?: string;
  private readerFileColumns?: string;

  constructor(
    @InjectRepository(FileEntity) private readonly files: Repository<FileEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
  ) {}

  /**
   * One transaction for the whole upload: the row ('uploading'), every chunk `write` puts (numbered in order),
   * then the row marked ready with its size, chunk count and hash. When `write` throws, nothing is stored and
   * the error is rethrown as is. Returns the ready file.
   *
   * The server's ready files may hold at most `maxStoredBytes` together (QuotaExceededError, nothing stored): the
   * sum is taken under a transaction-scoped advisory lock on the server, held from the check to the commit, so two
   * uploads finishing at once cannot both fit in the room left for one.
   */
  async upload(
    serverId: string,
    file: NewFile,
    write: (chunks: ChunkWriter) => Promise<UploadedStats>,
    maxStoredBytes = Number.MAX_SAFE_INTEGER,
    /** Rows of another aggregate stored with the file (another repository's, e.g. a scope version's). */
    alongside?: (tx: EntityManager) => Promise<void>,
  ): Promise<FileEntity> {
    await this.dataSource.transaction(async (tx) => {
      const files = tx.withRepository(this.files);
      await files.insert({ ...file, serverId, size: '0', status: 'uploading' });
      let seq = 0;
      const stats = await write({
        put: (sealed) => this.blobs.putChunk(serverId, file.id, seq++, sealed, tx),
      });
      await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('hearth:storage:' || $1, 0))`, [
        serverId,
      ]);
      const [stored] = await tx.query<Array<{ bytes: string }>>(
        `SELECT COALESCE(sum(size), 0)::text AS bytes FROM files WHERE server_id = $1 AND status = 'ready'`,
        [serverId],
      );
      if (Number(stored.bytes) + stats.size > maxStoredBytes)
        throw new QuotaExceededError('storage_bytes', maxStoredBytes);
      await files.update(
        { id: file.id, serverId },
        {
          size: String(stats.size),
          chunkCount: seq,
          ciphertextSha256: stats.ciphertextSha256,
          status: 'ready',
        },
      );
      if (alongside) await alongside(tx);
    });
    return this.files.findOneByOrFail({ id: file.id, serverId });
  }

  /**
   * The owner's read path in one statement (a prepared one: it serves every download): the session a token hash
   * names (active by the database clock), the reader's role on the server (owner, or a collective's member), the
   * server's tenant key ref, and the ready file with its chunks when it is small. Whether the reader may see that
   * file (an owner every file, a member their own contributions) is the caller's rule.
   *
   * A small file's chunks come back as rows, one per chunk beside the (repeated, small) session and file columns:
   * each chunk is then one `bytea` of its own, read at the streamed path's cost per byte. Aggregating them into
   * one value costs more (a `bytea[]` is parsed character by character; one `string_agg` is sorted, copied and
   * sent as one hex string twice the size).
   */
  async findForReader(serverId: string, fileId: string, sessionTokenHash: Buffer): Promise<FileForReader> {
    this.readerFileColumns ??= columnsOf(this.dataSource, FileEntity, 'f', 'f_');
    const rows = await prepared<Record<string, unknown>>(
      this.dataSource,
      'files_find_for_reader',
      `SELECT ses.account_id AS ses_account_id, a.address AS ses_address, srv.kms_key_ref AS srv_kms_key_ref,
              srv.kind AS srv_kind,
              CASE WHEN srv.owner_account_id = ses.account_id THEN 'owner' ELSE m.role END AS reader_role,
              ${this.readerFileColumns}, f.chunk_count <= $4 AS inline, ch.data AS chunk_data
       FROM sessions ses
       JOIN accounts a ON a.id = ses.account_id
       LEFT JOIN servers srv ON srv.id = $2
       LEFT JOIN server_members m ON m.server_id = srv.id AND m.address = a.address
       LEFT JOIN files f ON f.server_id = srv.id AND f.id = $3 AND f.status = 'ready'
       LEFT JOIN LATERAL (
         SELECT c.seq, c.data FROM file_chunks c
         WHERE c.server_id = f.server_id AND c.file_id = f.id AND f.chunk_count <= $4
       ) ch ON true
       WHERE ses.token_hash = $1 AND ses.revoked_at IS NULL AND ses.expires_at > now()
       ORDER BY ch.seq`,
      [sessionTokenHash, serverId, fileId, READ_INLINE_CHUNKS],
    );
    const row = rows[0];
    if (!row) return { found: 'no-session' };
    const session = { accountId: row.ses_account_id as string, address: row.ses_address as string };
    const role = row.reader_role as ServerRole | null;
    if (!role) return { found: 'no-server', session };
    const file = row.f_id === null ? null : hydrate(this.dataSource, FileEntity, row, 'f_');
    return {
      found: 'server',
      session,
      role,
      serverKmsKeyRef: row.srv_kms_key_ref as string,
      serverKind: row.srv_kind as 'personal' | 'collective',
      file,
      chunks:
        file && row.inline === true
          ? rows.flatMap((r) => (r.chunk_data === null ? [] : [r.chunk_data as Buffer]))
          : null,
    };
  }

  /** A ready file of the server; null when it has none by that id (or it is still uploading). */
  findReady(serverId: string, fileId: string): Promise<FileEntity | null> {
    return this.files.findOneBy({ id: fileId, serverId, status: 'ready' });
  }

  /**
   * The server's ready files, newest first, after `cursor` (an id), optionally only one contributor's
   * (lowercase address): up to `limit + 1` rows (one more tells the caller there is a next page).
   *
   * Ordered and compared as `id COLLATE "C"`, an order only the tenant's indexes have (files_page_idx, and
   * files_contributor_page_idx for a contributor): the primary key cannot give it, so no plan walks every
   * tenant's newest files and filters out the others', whatever the statistics say (docs/architecture.md#pages).
   * 'uploading' rows live inside their upload's transaction only, so the status filter drops next to nothing.
   */
  async listReady(
    serverId: string,
    page: { limit: number; cursor?: string; contributorAddress?: string | null },
  ): Promise<FileEntity[]> {
    this.fileColumns ??= columnsOf(this.dataSource, FileEntity);
    const p = new Params();
    const where = [`server_id = ${p.add(serverId)}`, `status = 'ready'`];
    if (page.contributorAddress) {
      where.push(`contributor_address = ${p.add(page.contributorAddress.toLowerCase())}`);
    }
    if (page.cursor) where.push(`id COLLATE "C" < ${p.add(page.cursor)}`);
    const rows: Array<Record<string, unknown>> = await this.files.query(
      `SELECT ${this.fileColumns} FROM files WHERE ${where.join(' AND ')}
        ORDER BY id COLLATE "C" DESC LIMIT ${p.add(page.limit + 1)}`,
      p.values,
    );
    return rows.map((row) => hydrate(this.dataSource, FileEntity, row));
  }

  /**
   * The ready files of the server among `fileIds`, newest first after `cursor`, as `listReady` pages them: up to
   * `limit + 1` rows. Ids of other servers are simply absent.
   */
  async listReadyAmong(
    serverId: string,
    fileIds: readonly string[],
    page: { limit: number; cursor?: string },
  ): Promise<FileEntity[]> {
    this.fileColumns ??= columnsOf(this.dataSource, FileEntity);
    const p = new Params();
    const where = [
      `server_id = ${p.add(serverId)}`,
      `status = 'ready'`,
      `id = ANY(${p.add([...fileIds])}::text[])`,
    ];
    if (page.cursor) where.push(`id COLLATE "C" < ${p.add(page.cursor)}`);
    const rows: Array<Record<string, unknown>> = await this.files.query(
      `SELECT ${this.fileColumns} FROM files WHERE ${where.join(' AND ')}
        ORDER BY id COLLATE "C" DESC LIMIT ${p.add(page.limit + 1)}`,
      p.values,
    );
    return rows.map((row) => hydrate(this.dataSource, FileEntity, row));
  }

  /**
   * Which of `fileIds` are ready files of the server (a prepared statement: every operation request checks its
   * files). Missing, foreign and still-uploading ids are simply absent.
   */
  async readyIds(serverId: string, fileIds: readonly string[]): Promise<string[]> {
    const rows = await prepared<{ id: string }>(
      this.dataSource,
      'files_ready_ids',
      `SELECT id FROM files WHERE server_id = $1 AND id = ANY($2::text[]) AND status = 'ready'`,
      [serverId, [...fileIds]],
    );
    return rows.map((r) => r.id);
  }

  /**
   * The size of each of these ids that is a ready file of the server (ids of other servers are not there): what
   * an operation's input adds up to, known before any chunk is read.
   */
  async readySizes(
    serverId: string,
    fileIds: readonly string[],
  ): Promise<Array<{ id: string; size: number }>> {
    const rows = await prepared<{ id: string; size: string }>(
      this.dataSource,
      'files_ready_sizes',
      `SELECT id, size FROM files WHERE server_id = $1 AND id = ANY($2::text[]) AND status = 'ready'`,
      [serverId, [...fileIds]],
    );
    return rows.map((r) => ({ id: r.id, size: Number(r.size) }));
  }

  /**
   * What describes each of these ids that is a ready file of the server (no chunk, no data key): the id, the
   * size, the sealed content type, how it is encrypted and when it arrived. An app's view of the files its
   * grants name; ids of other servers are absent.
   */
  async readyDescriptions(
    serverId: string,
    fileIds: readonly string[],
  ): Promise<Array<Pick<FileEntity, 'id' | 'size' | 'sealedContentType' | 'encryption' | 'createdAt'>>> {
    const rows = await prepared<{
      id: string;
      size: string;
      sealed_content_type: Buffer;
      encryption: FileEntity['encryption'];
      created_at: Date;
    }>(
      this.dataSource,
      'files_ready_descriptions',
      `SELECT id, size, sealed_content_type, encryption, created_at FROM files
        WHERE server_id = $1 AND id = ANY($2::text[]) AND status = 'ready' ORDER BY id COLLATE "C"`,
      [serverId, [...fileIds]],
    );
    return rows.map((r) => ({
      id: r.id,
      size: r.size,
      sealedContentType: r.sealed_content_type,
      encryption: r.encryption,
      createdAt: r.created_at,
    }));
  }

  /** The file's sealed chunks in order, a batch at a time (memory stays bounded whatever the file's size). */
  readChunks(serverId: string, fileId: string): AsyncIterable<Buffer> {
    return this.blobs.readChunks(serverId, fileId);
  }

  /** One transaction: the file's chunks, then its row. False when the server has no such file. */
  async delete(serverId: string, fileId: string): Promise<boolean> {
    const deleted = await this.dataSource.transaction((tx) =>
      deleteFilesIn(tx, this.blobs, serverId, [fileId]),
    );
    return deleted > 0;
  }
}
