import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A file's records and search index for one file version, sealed under a key derived from the file's data key
 * (libs/blobs fileIndexAad, FILE_INDEX_KEY_INFO). Deleted with the file; counts and codes only in the clear.
 */
@Entity('file_indexes')
export class FileIndexEntity {
  @PrimaryColumn({ name: 'file_id', type: 'text' }) fileId!: string;
  @Column({ name: 'server_id', type: 'text' }) serverId!: string;
  @Column({ name: 'ciphertext_sha256', type: 'text' }) ciphertextSha256!: string;
  @Column({ type: 'text' }) status!: 'ready' | 'failed';
  @Column({ name: 'format_version', type: 'int' }) formatVersion!: number;
  @Column({ name: 'sealed_index', type: 'bytea', nullable: true }) sealedIndex!: Buffer | null;
  @Column({ type: 'int', default: 0 }) records!: number;
  @Column({ name: 'error_code', type: 'text', nullable: true }) errorCode!: string | null;
  @Column({ name: 'built_at', type: 'timestamptz' }) builtAt!: Date;
}
