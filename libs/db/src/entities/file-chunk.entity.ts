import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One sealed chunk of a file's ciphertext (the default blob store). */
@Entity('file_chunks')
export class FileChunkEntity {
  @PrimaryColumn({ name: 'file_id', type: 'text' }) fileId!: string;
  @PrimaryColumn({ type: 'int' }) seq!: number;
  @Column({ name: 'server_id', type: 'text' }) serverId!: string;
  @Column({ type: 'bytea' }) data!: Buffer;
}
