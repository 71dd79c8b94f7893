import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** One delivery attempt of one event to one webhook: the webhook's delivery log. */
@Entity('webhook_deliveries')
export class WebhookDeliveryEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ name: 'server_id', type: 'text' }) serverId!: string;
  @Column({ name: 'webhook_id', type: 'text' }) webhookId!: string;
  @Column({ name: 'event_id', type: 'text' }) eventId!: string;
  /** 1 for the first attempt. */
  @Column({ type: 'int' }) attempt!: number;
  /** The receiver's HTTP status; null when no response came (see errorCode). */
  @Column({ name: 'status_code', type: 'int', nullable: true }) statusCode!: number | null;
  /** Why the attempt failed (a WebhookDeliveryCode); null on success. */
  @Column({ name: 'error_code', type: 'text', nullable: true }) errorCode!: string | null;
  @Column({ name: 'duration_ms', type: 'int' }) durationMs!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
