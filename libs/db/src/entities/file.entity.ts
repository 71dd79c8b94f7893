import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export type FileEncryption = 'server' | 'client';

/** File metadata. The bytes live in the blob store (file_chunks by default), always encrypted. */
@Entity('files')
@Index(['serverId', 'id'])
export class FileEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ name: 'server_id', type: 'text' }) serverId!: string;
  /** The file's name and Content-Type, sealed under the server's metadata key (metadataAad 'file.name' / 'file.contentType'). */
  @Column({ name: 'sealed_name', type: 'bytea' }) sealedName!: Buffer;
  @Column({ name: 'sealed_content_type', type: 'bytea' }) sealedContentType!: Buffer;
  /** Plaintext bytes for server-encrypted files; envelope bytes for client-encrypted ones. */
  @Column({ type: 'bigint' }) size!: string;
  @Column({ type: 'text' }) encryption!: FileEncryption;
  /** The file's data key wrapped by the tenant key (null for client envelopes). */
  @Column({ name: 'wrapped_data_key', type: 'bytea', nullable: true }) wrappedDataKey!: Buffer | null;
  /** The key that wrapped the data key: a collective member's own key; null means the server's tenant key. */
  @Column({ name: 'kms_key_ref', type: 'text', nullable: true }) kmsKeyRef!: string | null;
  @Column({ name: 'chunk_count', type: 'int', default: 0 }) chunkCount!: number;
  /** SHA-256 over the stored ciphertext, for receipts. */
  @Column({ name: 'ciphertext_sha256', type: 'text', nullable: true }) ciphertextSha256!: string | null;
  /** Lowercase address of the member who contributed it (collectives) or the owner. */
  @Column({ name: 'contributor_address', type: 'text' }) contributorAddress!: string;
  /** 'uploading' until every chunk is stored; readers only see 'ready'. */
  @Column({ type: 'text', default: 'ready' }) status!: 'uploading' | 'ready';
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
