import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { firstIdAt, newId } from '@hearth/ids';
import { DataSource } from 'typeorm';
import { EventEntity } from '../entities/event.entity';
import { WebhookDeliveryEntity } from '../entities/webhook-delivery.entity';
import { WebhookEntity } from '../entities/webhook.entity';
import { hydrate } from './hydrate';
import { Params } from './internal/params';
import { columnsOf, prepared } from './prepared';

export interface NewWebhook {
  id: string;
  url: string;
  /** Null: every event type. */
  events: string[] | null;
  /** The signing secret sealed under the server's metadata key (never plaintext). */
  sealedSecret: Buffer;
  /** The queue (QUEUE_PREFIX) whose dispatcher delivers to it. Default `hearth`. */
  queuePrefix?: string;
}

/** One attempt to log. */
export type NewDelivery = Pick<
  WebhookDeliveryEntity,
  'webhookId' | 'eventId' | 'attempt' | 'statusCode' | 'errorCode' | 'durationMs'
>;

/** What a delivery attempt needs, read in one round trip: the webhook, the event and the server's keys. */
export interface DeliveryTarget {
  webhook: WebhookEntity;
  event: EventEntity;
  /** The tenant key that wraps the server's metadata key. */
  kmsKeyRef: string;
  /** The server's wrapped metadata key (null only if the server never sealed anything: then nothing opens). */
  wrappedMetadataKey: Buffer | null;
}

/** Webhooks and their delivery log. Every method names the server (tenant) first. */
@Injectable()
export class WebhookRepository {
  static readonly entities = [WebhookEntity, WebhookDeliveryEntity];

  private webhookColumns?: string;
  private deliveryColumns?: string;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A new active webhook of the server; null when the server is gone. */
  async create(serverId: string, webhook: NewWebhook): Promise<WebhookEntity | null> {
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `INSERT INTO webhooks (id, server_id, url, events, sealed_secret, status, consecutive_failures, queue_prefix)
       SELECT $1, id, $3, $4::text[], $5, 'active', 0, $6 FROM servers WHERE id = $2
       RETURNING ${this.columns()}`,
      [
        webhook.id,
        serverId,
        webhook.url,
        webhook.events,
        webhook.sealedSecret,
        webhook.queuePrefix ?? 'hearth',
      ],
    );
    return rows.length ? this.hydrate(rows[0]) : null;
  }

  async find(serverId: string, id: string): Promise<WebhookEntity | null> {
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT ${this.columns()} FROM webhooks WHERE server_id = $1 AND id = $2`,
      [serverId, id],
    );
    return rows.length ? this.hydrate(rows[0]) : null;
  }

  /** The server's webhooks in creation order, after `cursor`: up to `limit + 1` rows (webhooks_page_idx). */
  async list(serverId: string, page: { limit: number; cursor?: string }): Promise<WebhookEntity[]> {
    const p = new Params();
    const where = [`server_id = ${p.add(serverId)}`];
    if (page.cursor) where.push(`id COLLATE "C" > ${p.add(page.cursor)}`);
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT ${this.columns()} FROM webhooks WHERE ${where.join(' AND ')}
        ORDER BY id COLLATE "C" LIMIT ${p.add(page.limit + 1)}`,
      p.values,
    );
    return rows.map((row) => this.hydrate(row));
  }

  /** Deletes the webhook and its delivery log; false when the server has no such webhook. */
  async delete(serverId: string, id: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `DELETE FROM webhooks WHERE server_id = $1 AND id = $2 RETURNING id`,
      [serverId, id],
    );
    return affected(rows) > 0;
  }

  /** The webhook, the event and the server's keys for one delivery; null when either is gone. */
  async findDeliveryTarget(
    serverId: string,
    webhookId: string,
    eventId: string,
  ): Promise<DeliveryTarget | null> {
    const rows = await prepared<Record<string, unknown>>(
      this.dataSource,
      'webhooks_delivery_target',
      `SELECT ${columnsOf(this.dataSource, WebhookEntity, 'w', 'w_')}, ${columnsOf(this.dataSource, EventEntity, 'e', 'e_')},
              s.kms_key_ref, mk.wrapped_key AS wrapped_metadata_key
         FROM webhooks w
         JOIN events e ON e.server_id = w.server_id AND e.id = $3
         JOIN servers s ON s.id = w.server_id
         LEFT JOIN server_metadata_keys mk ON mk.server_id = w.server_id
        WHERE w.server_id = $1 AND w.id = $2`,
      [serverId, webhookId, eventId],
    );
    if (rows.length === 0) return null;
    const row = rows[0];
    return {
      webhook: hydrate(this.dataSource, WebhookEntity, row, 'w_'),
      event: hydrate(this.dataSource, EventEntity, row, 'e_'),
      kmsKeyRef: row.kms_key_ref as string,
      wrappedMetadataKey: (row.wrapped_metadata_key as Buffer | null) ?? null,
    };
  }

  /**
   * Logs one attempt. A successful one also resets the webhook's count of consecutive failed events, in the
   * same statement. Null when the webhook is gone.
   */
  async recordAttempt(serverId: string, delivery: NewDelivery): Promise<WebhookDeliveryEntity | null> {
    const rows = await prepared<Record<string, unknown>>(
      this.dataSource,
      'webhooks_record_attempt',
      `WITH logged AS (
         INSERT INTO webhook_deliveries (id, server_id, webhook_id, event_id, attempt, status_code, error_code,
                                         duration_ms)
         SELECT $1, server_id, id, $4, $5, $6, $7, $8 FROM webhooks WHERE server_id = $2 AND id = $3
         RETURNING ${this.deliveryColumnList()}
       ), reset AS (
         UPDATE webhooks SET consecutive_failures = 0
          WHERE server_id = $2 AND id = $3 AND $7::text IS NULL AND consecutive_failures <> 0
       )
       SELECT ${this.deliveryColumnList()} FROM logged`,
      [
        newId('dlv'),
        serverId,
        delivery.webhookId,
        delivery.eventId,
        delivery.attempt,
        delivery.statusCode,
        delivery.errorCode,
        Math.round(delivery.durationMs),
      ],
    );
    return rows.length ? hydrate(this.dataSource, WebhookDeliveryEntity, rows[0]) : null;
  }

  /**
   * Counts one more event whose every attempt failed. At `maxFailures` in a row the webhook is disabled and a
   * `webhook.disabled` event recorded, in the same statement, exactly once (only an active webhook counts).
   * Null when the webhook is gone or already disabled.
   */
  async recordFailedEvent(
    serverId: string,
    webhookId: string,
    maxFailures: number,
  ): Promise<{ consecutiveFailures: number; disabled: boolean } | null> {
    const rows = await prepared<{ consecutive_failures: number; status: string }>(
      this.dataSource,
      'webhooks_record_failed_event',
      `WITH counted AS (
         UPDATE webhooks SET consecutive_failures = consecutive_failures + 1,
                status = CASE WHEN consecutive_failures + 1 >= $3 THEN 'disabled' ELSE status END,
                disabled_at = CASE WHEN consecutive_failures + 1 >= $3 THEN now() ELSE disabled_at END
          WHERE server_id = $1 AND id = $2 AND status = 'active'
          RETURNING id, server_id, consecutive_failures, status
       ), announced AS (
         INSERT INTO events (id, server_id, type, data)
         SELECT $4, server_id, 'webhook.disabled',
                jsonb_build_object('webhookId', id, 'consecutiveFailures', consecutive_failures)
           FROM counted WHERE status = 'disabled'
       )
       SELECT consecutive_failures, status FROM counted`,
      [serverId, webhookId, maxFailures, newId('evt')],
    );
    if (rows.length === 0) return null;
    return { consecutiveFailures: rows[0].consecutive_failures, disabled: rows[0].status === 'disabled' };
  }

  /** The webhook's delivery log, newest first, after `cursor`: up to `limit + 1` rows. */
  async listDeliveries(
    serverId: string,
    webhookId: string,
    page: { limit: number; cursor?: string },
  ): Promise<WebhookDeliveryEntity[]> {
    const p = new Params();
    const where = [`server_id = ${p.add(serverId)}`, `webhook_id = ${p.add(webhookId)}`];
    if (page.cursor) where.push(`id COLLATE "C" < ${p.add(page.cursor)}`);
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT ${this.deliveryColumnList()} FROM webhook_deliveries WHERE ${where.join(' AND ')}
        ORDER BY id COLLATE "C" DESC LIMIT ${p.add(page.limit + 1)}`,
      p.values,
    );
    return rows.map((row) => hydrate(this.dataSource, WebhookDeliveryEntity, row));
  }

  /** Retention, part of the maintenance sweep (every server): deletes up to `limit` delivery-log rows older than `before`. */
  async purgeDeliveriesBefore(before: Date, limit: number): Promise<number> {
    const rows = await prepared<{ id: string }>(
      this.dataSource,
      'webhook_deliveries_purge_before',
      `DELETE FROM webhook_deliveries WHERE id IN (
         SELECT id FROM webhook_deliveries WHERE id < $1 AND created_at < $2 LIMIT $3)
       RETURNING id`,
      [firstIdAt('dlv', before), before, limit],
    );
    return rows.length;
  }

  private hydrate(row: Record<string, unknown>): WebhookEntity {
    return hydrate(this.dataSource, WebhookEntity, row);
  }

  private columns(): string {
    this.webhookColumns ??= columnsOf(this.dataSource, WebhookEntity);
    return this.webhookColumns;
  }

  private deliveryColumnList(): string {
    this.deliveryColumns ??= columnsOf(this.dataSource, WebhookDeliveryEntity);
    return this.deliveryColumns;
  }
}

/** pg returns [rows, count] for UPDATE/DELETE … RETURNING through TypeORM's query(). */
function affected(result: unknown[]): number {
  if (result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[1];
  return result.length;
}
