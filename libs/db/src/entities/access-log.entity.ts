import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** One row per decryption of tenant data, and per denial. Append-only. */
@Entity('access_log')
@Index(['serverId', 'id'])
export class AccessLogEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ name: 'server_id', type: 'text' }) serverId!: string;
  @Column({ name: 'operation_id', type: 'text', nullable: true }) operationId!: string | null;
  @Column({ name: 'actor', type: 'text' }) actor!: string;
  @Column({ name: 'api_key_id', type: 'text', nullable: true }) apiKeyId!: string | null;
  @Column({ name: 'grant_id', type: 'text', nullable: true }) grantId!: string | null;
  @Column({ type: 'text', nullable: true }) operation!: string | null;
  @Column({ name: 'file_ids', type: 'text', array: true }) fileIds!: string[];
  @Column({ type: 'text' }) outcome!: 'succeeded' | 'failed' | 'denied' | 'read';
  @Column({ type: 'text', nullable: true }) code!: string | null;
  @Column({ name: 'block_number', type: 'text', nullable: true }) blockNumber!: string | null;
  @Column({ name: 'receipt_hash', type: 'text', nullable: true }) receiptHash!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
