import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { EventType } from '../events/event-types';

/**
 * One fact of the owner's event feed, and the webhooks' outbox: `dispatchedAt` is null until the dispatcher has
 * queued its deliveries. `data` holds ids and codes only.
 */
@Entity('events')
export class EventEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ name: 'server_id', type: 'text' }) serverId!: string;
  @Column({ type: 'text' }) type!: EventType;
  @Column({ type: 'jsonb' }) data!: Record<string, unknown>;
  /** Set for facts that happen once (a grant's expiry): a second report of it is dropped. */
  @Column({ name: 'dedupe_key', type: 'text', nullable: true }) dedupeKey!: string | null;
  @Column({ name: 'dispatched_at', type: 'timestamptz', nullable: true }) dispatchedAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
