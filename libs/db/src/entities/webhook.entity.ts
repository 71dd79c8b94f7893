import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type WebhookStatus = 'active' | 'disabled';

/**
 * An owner's webhook. Its signing secret is sealed under the server's metadata key (AAD names the server, the
 * field `webhook.secret` and the webhook id): the database alone cannot sign for it.
 */
@Entity('webhooks')
export class WebhookEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ name: 'server_id', type: 'text' }) serverId!: string;
  @Column({ type: 'text' }) url!: string;
  /** The event types it receives; null for every type. */
  @Column({ type: 'text', array: true, nullable: true }) events!: string[] | null;
  @Column({ name: 'sealed_secret', type: 'bytea' }) sealedSecret!: Buffer;
  @Column({ type: 'text' }) status!: WebhookStatus;
  /** Events in a row whose every attempt failed; reset by a delivery that succeeds. */
  @Column({ name: 'consecutive_failures', type: 'int' }) consecutiveFailures!: number;
  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true }) disabledAt!: Date | null;
  /** The queue (QUEUE_PREFIX) whose dispatcher delivers to it. */
  @Column({ name: 'queue_prefix', type: 'text' }) queuePrefix!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
