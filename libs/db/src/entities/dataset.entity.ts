import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An immutable snapshot of a collective's contribution set, published by an admin: aggregates may run over it
 * (or over the whole current set), never over a set an app picks. Ids and counts only: no names, no content.
 */
@Entity('collective_datasets')
@Index(['serverId', 'version'], { unique: true })
export class DatasetEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ name: 'server_id', type: 'text' }) serverId!: string;
  /** 1, 2, 3… per collective, in publishing order. */
  @Column({ type: 'int' }) version!: number;
  @Column({ name: 'file_ids', type: 'text', array: true }) fileIds!: string[];
  @Column({ type: 'int' }) contributors!: number;
  /** Lowercase address of the admin who published it. */
  @Column({ name: 'created_by', type: 'text' }) createdBy!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
