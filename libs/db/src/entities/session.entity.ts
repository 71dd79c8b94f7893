import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** An owner's sign-in session. Only the SHA-256 of the bearer token is stored. */
@Entity('sessions')
export class SessionEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Index() @Column({ name: 'account_id', type: 'text' }) accountId!: string;
  @Column({ name: 'token_hash', type: 'bytea', unique: true }) tokenHash!: Buffer;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
