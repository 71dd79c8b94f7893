import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** An app's key to one server. Only the SHA-256 of the secret is stored. */
@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Index() @Column({ name: 'server_id', type: 'text' }) serverId!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ name: 'app_address', type: 'text' }) appAddress!: string;
  @Column({ name: 'secret_hash', type: 'bytea', unique: true }) secretHash!: Buffer;
  /** First characters of the key, shown in lists so owners can tell keys apart. */
  @Column({ name: 'secret_prefix', type: 'text' }) secretPrefix!: string;
  @Column({ type: 'text', array: true, nullable: true }) operations!: string[] | null;
  @Column({ type: 'text', array: true, nullable: true }) origins!: string[] | null;
  @Column({ name: 'rate_per_minute', type: 'int' }) ratePerMinute!: number;
  /** When the key itself stops working (none by default). */
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true }) expiresAt!: Date | null;
  /** After a rotation: the old secret's hash, accepted until previousSecretExpiresAt (grace period). */
  @Column({ name: 'previous_secret_hash', type: 'bytea', nullable: true }) previousSecretHash!: Buffer | null;
  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSecretExpiresAt!: Date | null;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt!: Date | null;
  @Column({ name: 'rotated_from', type: 'text', nullable: true }) rotatedFrom!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
