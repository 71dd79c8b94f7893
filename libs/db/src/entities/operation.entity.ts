import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export type OperationStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'denied' | 'cancelled';

/** An operation an app asked a server to run. The result is stored encrypted and expires. */
@Entity('operations')
@Index(['apiKeyId', 'idempotencyKey'], { unique: true, where: 'idempotency_key IS NOT NULL' })
export class OperationEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Index() @Column({ name: 'server_id', type: 'text' }) serverId!: string;
  @Column({ name: 'api_key_id', type: 'text' }) apiKeyId!: string;
  @Column({ name: 'app_address', type: 'text' }) appAddress!: string;
  @Column({ type: 'text' }) operation!: string;
  @Column({ name: 'operation_version', type: 'text' }) operationVersion!: string;
  /** The parameters' JSON, sealed under the server's metadata key (metadataAad 'operation.parameters'). */
  @Column({ name: 'sealed_parameters', type: 'bytea' }) sealedParameters!: Buffer;
  @Column({ name: 'file_ids', type: 'text', array: true }) fileIds!: string[];
  @Column({ name: 'grant_id', type: 'text', nullable: true }) grantId!: string | null;
  /** A collective's published dataset the operation runs over; null on a collective: every current contribution. */
  @Column({ name: 'dataset_id', type: 'text', nullable: true }) datasetId!: string | null;
  @Column({ type: 'text' }) status!: OperationStatus;
  @Column({ name: 'error_code', type: 'text', nullable: true }) errorCode!: string | null;
  @Column({ name: 'error_detail', type: 'text', nullable: true }) errorDetail!: string | null;
  @Column({ name: 'idempotency_key', type: 'text', nullable: true }) idempotencyKey!: string | null;
  @Column({ name: 'request_hash', type: 'text' }) requestHash!: string;
  @Column({ name: 'result_ciphertext', type: 'bytea', nullable: true }) resultCiphertext!: Buffer | null;
  @Column({ name: 'result_wrapped_key', type: 'bytea', nullable: true }) resultWrappedKey!: Buffer | null;
  @Column({ name: 'result_expires_at', type: 'timestamptz', nullable: true }) resultExpiresAt!: Date | null;
  @Column({ type: 'jsonb', nullable: true }) receipt!: Record<string, unknown> | null;
  @Column({ name: 'receipt_hash', type: 'text', nullable: true }) receiptHash!: string | null;
  @Column({ type: 'int', default: 0 }) attempts!: number;
  /** How often the reconciler queued it again after its job was lost. */
  @Column({ type: 'int', default: 0 }) requeues!: number;
  /** The queue (QUEUE_PREFIX) its job goes to: the reconciler of that queue looks after it. */
  @Column({ name: 'queue_prefix', type: 'text', default: 'hearth' }) queuePrefix!: string;
  @Column({ type: 'jsonb', nullable: true }) timings!: Record<string, number> | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true }) startedAt!: Date | null;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
}
