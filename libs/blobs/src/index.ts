import type { DataSource, EntityManager } from 'typeorm';

/**
 * Where ciphertext lives. The default keeps sealed chunks as rows in Postgres (streamed one chunk at a time,
 * never one huge value); an S3-compatible store can implement the same interface for large deployments.
 * Every call names the tenant (server) it acts for.
 */
export interface BlobStore {
  putChunk(serverId: string, fileId: string, seq: number, sealed: Buffer, tx?: EntityManager): Promise<void>;
  /** Sealed chunks in order. */
  readChunks(serverId: string, fileId: string): AsyncIterable<Buffer>;
  deleteFile(serverId: string, fileId: string, tx?: EntityManager): Promise<void>;
}

/** The AAD that binds each sealed chunk of a file to its tenant and file (see libs/crypto chunkAad). */
export function fileChunkAad(serverId: string, fileId: string): string {
  return `hearth:file:v1:${serverId}:${fileId}`;
}

/** The AAD of an operation's encrypted result. */
export function resultAad(serverId: string, operationId: string): string {
  return `hearth:result:v1:${serverId}:${operationId}`;
}

const READ_BATCH = 16;

export class PostgresBlobStore implements BlobStore {
  constructor(private readonly dataSource: DataSource) {}

  async putChunk(
    serverId: string,
    fileId: string,
    seq: number,
    sealed: Buffer,
    tx?: EntityManager,
  ): Promise<void> {
    await (tx ?? this.dataSource.manager).query(
      'INSERT INTO file_chunks (file_id, seq, server_id, data) VALUES ($1, $2, $3, $4)',
      [fileId, seq, serverId, sealed],
    );
  }

  async *readChunks(serverId: string, fileId: string): AsyncIterable<Buffer> {
    // Batches keep memory bounded by READ_BATCH chunks whatever the file's size.
    for (let from = 0; ; from += READ_BATCH) {
      const rows: Array<{ data: Buffer }> = await this.dataSource.query(
        `SELECT data FROM file_chunks WHERE server_id = $1 AND file_id = $2 AND seq >= $3 AND seq < $4 ORDER BY seq`,
        [serverId, fileId, from, from + READ_BATCH],
      );
      for (const row of rows) yield row.data;
      if (rows.length < READ_BATCH) return;
    }
  }

  async deleteFile(serverId: string, fileId: string, tx?: EntityManager): Promise<void> {
    await (tx ?? this.dataSource.manager).query(
      'DELETE FROM file_chunks WHERE server_id = $1 AND file_id = $2',
      [serverId, fileId],
    );
  }
}

/** Encryption context of an operation result's data key. */
export function resultKeyContext(serverId: string, operationId: string): Record<string, string> {
  return { tenantId: serverId, serverId, operationId, purpose: 'result' };
}

/** Encryption context of a server's metadata key (seals file names, content types, operation parameters). */
export function metadataKeyContext(serverId: string): Record<string, string> {
  return { tenantId: serverId, serverId, purpose: 'metadata' };
}

/** The sealed metadata fields; each one's AAD names the tenant, the field and the row. */
export type MetadataField =
  'file.name' | 'file.contentType' | 'operation.parameters' | 'webhook.secret' | 'dp.scope';

/** The AAD of one sealed metadata value (see libs/crypto sealValue). */
export function metadataAad(serverId: string, field: MetadataField, rowId: string): string {
  return `hearth:meta:v1:${serverId}:${field}:${rowId}`;
}

/** Encryption context of a server's wrapped identity (secp256k1) private key. */
export function identityKeyContext(serverId: string): Record<string, string> {
  return { tenantId: serverId, serverId, purpose: 'identity' };
}

/** Small sealed objects (results) are stored as their sealed chunks back to back, each prefixed by a u32 length. */
export function packChunks(chunks: Buffer[]): Buffer {
  return Buffer.concat(
    chunks.flatMap((chunk) => {
      const len = Buffer.allocUnsafe(4);
      len.writeUInt32BE(chunk.length, 0);
      return [len, chunk];
    }),
  );
}

export function unpackChunks(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < buf.length;) {
    if (off + 4 > buf.length) throw new Error('truncated packed chunks');
    const len = buf.readUInt32BE(off);
    if (off + 4 + len > buf.length) throw new Error('truncated packed chunks');
    out.push(buf.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  return out;
}

/**
 * The AAD of a file's record index: bound to the tenant, the file and the file version (its ciphertext hash),
 * so an index can never be opened as another file's or an older version's.
 */
export function fileIndexAad(serverId: string, fileId: string, ciphertextSha256: string): string {
  return `hearth:file-index:v1:${serverId}:${fileId}:${ciphertextSha256}`;
}

/** HKDF info of the key that seals a file's record index, derived from the file's own data key. */
export const FILE_INDEX_KEY_INFO = 'hearth file index key v1';
