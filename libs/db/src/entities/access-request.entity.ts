import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** Stored states; `expired` is not one: a pending request past `expiresAt` reads as expired. */
export type AccessRequestState = 'pending' | 'approved' | 'denied';

/**
 * An app's signed request for access to one server. Everything in it is the app's own words (purpose, return
 * URL, origins) or ids; never a file name. The API key created on approval is referenced, its secret never stored.
 */
@Entity('access_requests')
export class AccessRequestEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ name: 'server_id', type: 'text' }) serverId!: string;
  /** Lowercase address of the app's wallet: the request's signer and the grant's grantee. */
  @Column({ name: 'app_address', type: 'text' }) appAddress!: string;
  @Column({ name: 'app_name', type: 'text' }) appName!: string;
  @Column({ type: 'text', array: true }) operations!: string[];
  @Column({ name: 'file_ids', type: 'text', array: true }) fileIds!: string[];
  @Column({ name: 'all_files', type: 'boolean' }) allFiles!: boolean;
  /** The grant expiry the app asked for; null = none. */
  @Column({ name: 'grant_expires_at', type: 'timestamptz', nullable: true }) grantExpiresAt!: Date | null;
  @Column({ type: 'text' }) purpose!: string;
  @Column({ name: 'return_url', type: 'text', nullable: true }) returnUrl!: string | null;
  /** The origin allowlist the app asked for its key; null = none. */
  @Column({ type: 'text', array: true, nullable: true }) origins!: string[] | null;
  /** The signed request's nonce: unique, so a signed request is filed once. */
  @Column({ type: 'bytea', unique: true }) nonce!: Buffer;
  /** The app's EIP-712 signature over the request, kept so the request stays attributable. */
  @Column({ type: 'bytea' }) signature!: Buffer;
  @Column({ type: 'text', default: 'pending' }) status!: AccessRequestState;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  /** When a pending request lapses. */
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'decided_at', type: 'timestamptz', nullable: true }) decidedAt!: Date | null;
  @Column({ name: 'grant_id', type: 'text', nullable: true }) grantId!: string | null;
  @Column({ name: 'key_id', type: 'text', nullable: true }) keyId!: string | null;
  /** When the app fetched its key's secret (it is issued once). */
  @Column({ name: 'key_claimed_at', type: 'timestamptz', nullable: true }) keyClaimedAt!: Date | null;
}
