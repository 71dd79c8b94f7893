import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * One version of a Data Portability scope document: a Hearth file (encrypted like every other) and when it was
 * collected. The scope name is sealed under the server's metadata key; `scopeDigest`, its keyed hash, finds a
 * scope's versions without revealing the name.
 */
@Entity('dp_documents')
export class DpDocumentEntity {
  @PrimaryColumn({ name: 'file_id', type: 'text' }) fileId!: string;
  @Column({ name: 'server_id', type: 'text' }) serverId!: string;
  @Column({ name: 'scope_digest', type: 'text' }) scopeDigest!: string;
  @Column({ name: 'sealed_scope', type: 'bytea' }) sealedScope!: Buffer;
  @Column({ name: 'collected_at', type: 'timestamptz' }) collectedAt!: Date;
}

/** The owner's setting for one scope: whether builders holding a grant may read its raw documents. */
@Entity('dp_scopes')
export class DpScopeEntity {
  @PrimaryColumn({ name: 'server_id', type: 'text' }) serverId!: string;
  @PrimaryColumn({ name: 'scope_digest', type: 'text' }) scopeDigest!: string;
  @Column({ name: 'sealed_scope', type: 'bytea' }) sealedScope!: Buffer;
  @Column({ type: 'boolean', default: false }) readable!: boolean;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** The signed receipt of a Data Portability read or refusal, beside its access-log row. */
@Entity('dp_access_receipts')
export class DpAccessReceiptEntity {
  @PrimaryColumn({ name: 'access_log_id', type: 'text' }) accessLogId!: string;
  @Column({ name: 'server_id', type: 'text' }) serverId!: string;
  @Column({ type: 'jsonb' }) receipt!: unknown;
  /** The scope asked for, sealed (row id: the access-log id); null when the request named none. */
  @Column({ name: 'sealed_scope', type: 'bytea', nullable: true }) sealedScope!: Buffer | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
