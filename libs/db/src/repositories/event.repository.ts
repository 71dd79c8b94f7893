import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { firstIdAt, newId } from '@hearth/ids';
import { DataSource } from 'typeorm';
import { EventEntity } from '../entities/event.entity';
import type { EventType, NewEvent } from '../events/event-types';
import { hydrate } from './hydrate';
import { Params } from './internal/params';
import { columnsOf, prepared } from './prepared';

/** An undispatched event and the webhooks (active, subscribed to its type, older than it) it goes to. */
export interface EventToDispatch {
  id: string;
  serverId: string;
  webhookIds: string[];
}

/**
 * The owner's event feed and the webhooks' outbox. Every method names the server (tenant) first, but the
 * dispatcher's sweep (`listUndispatched`, `markDispatched`), which works through every server's outbox.
 * Operation outcomes and refusals record their events in the statement that records them
 * (OperationRepository.finish, AccessLogRepository.append); `record` is for every other fact.
 */
@Injectable()
export class EventRepository {
  static readonly entities = [EventEntity];

  private eventColumns?: string;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Appends one event of the server. With `dedupeKey`, a fact already recorded under that key for the server is
   * not recorded again (null comes back). Null too when the server is gone.
   */
  async record(
    serverId: string,
    event: NewEvent,
    dedupeKey: string | null = null,
  ): Promise<EventEntity | null> {
    const rows = await prepared<Record<string, unknown>>(
      this.dataSource,
      'events_record',
      `INSERT INTO events (id, server_id, type, data, dedupe_key)
       SELECT $1, id, $3, $4::jsonb, $5 FROM servers WHERE id = $2
       ON CONFLICT (server_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
       RETURNING ${this.columns()}`,
      [newId('evt'), serverId, event.type, JSON.stringify(event.data), dedupeKey],
    );
    return rows.length ? hydrate(this.dataSource, EventEntity, rows[0]) : null;
  }

  find(serverId: string, id: string): Promise<EventEntity | null> {
    return this.dataSource.getRepository(EventEntity).findOneBy({ serverId, id });
  }

  /**
   * Newest first, after `cursor` (an id), optionally of one type: up to `limit + 1` rows (one more tells there is
   * a next page). Ordered and compared as `id COLLATE "C"`, the order of events_page_idx and
   * events_type_page_idx, both led by the tenant (docs/architecture.md#pages).
   */
  async list(
    serverId: string,
    page: { limit: number; cursor?: string; type?: EventType },
  ): Promise<EventEntity[]> {
    const p = new Params();
    const where = [`server_id = ${p.add(serverId)}`];
    if (page.type) where.push(`type = ${p.add(page.type)}`);
    if (page.cursor) where.push(`id COLLATE "C" < ${p.add(page.cursor)}`);
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT ${this.columns()} FROM events WHERE ${where.join(' AND ')}
        ORDER BY id COLLATE "C" DESC LIMIT ${p.add(page.limit + 1)}`,
      p.values,
    );
    return rows.map((row) => hydrate(this.dataSource, EventEntity, row));
  }

  /**
   * The oldest undispatched events of every server (at most `limit`), each with the webhooks it goes to: the
   * dispatcher's sweep of one queue (`queuePrefix`), through events_undispatched_idx (which holds only
   * undispatched rows). An event whose server has an active webhook of another queue is left to that queue's
   * dispatcher; an event no webhook takes comes back with none (to be marked dispatched). A webhook created
   * after the event does not get it.
   */
  async listUndispatched(queuePrefix: string, limit: number): Promise<EventToDispatch[]> {
    const rows = await prepared<{ id: string; server_id: string; webhook_ids: string[] }>(
      this.dataSource,
      'events_list_undispatched',
      `WITH batch AS (
         SELECT e.id, e.server_id, e.type, e.created_at FROM events e
          WHERE e.dispatched_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM webhooks o WHERE o.server_id = e.server_id AND o.status = 'active'
                                                      AND o.queue_prefix <> $2)
          ORDER BY e.id COLLATE "C" LIMIT $1
       )
       SELECT b.id, b.server_id,
              coalesce(array_agg(w.id ORDER BY w.id) FILTER (WHERE w.id IS NOT NULL), '{}') AS webhook_ids
         FROM batch b
         LEFT JOIN webhooks w ON w.server_id = b.server_id AND w.status = 'active'
                             AND (w.events IS NULL OR b.type = ANY(w.events)) AND w.created_at <= b.created_at
        GROUP BY b.id, b.server_id
        ORDER BY b.id COLLATE "C"`,
      [limit, queuePrefix],
    );
    return rows.map((r) => ({ id: r.id, serverId: r.server_id, webhookIds: r.webhook_ids }));
  }

  /** Marks events as dispatched (their deliveries are queued); part of the dispatcher's sweep. */
  async markDispatched(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await prepared<{ id: string }>(
      this.dataSource,
      'events_mark_dispatched',
      `UPDATE events SET dispatched_at = now() WHERE id = ANY($1::text[]) AND dispatched_at IS NULL RETURNING id`,
      [ids],
    );
    return rows.length;
  }

  /**
   * Retention, part of the maintenance sweep (every server): deletes up to `limit` events created before `before`
   * that went to every webhook. A fact recorded once under a dedupe key (a grant's expiry) stays, so it is never
   * reported twice. The id bound makes it a range of the primary key; created_at is what decides.
   */
  async purgeBefore(before: Date, limit: number): Promise<number> {
    const rows = await prepared<{ id: string }>(
      this.dataSource,
      'events_purge_before',
      `DELETE FROM events WHERE id IN (
         SELECT id FROM events
          WHERE id < $1 AND created_at < $2 AND dispatched_at IS NOT NULL AND dedupe_key IS NULL
          LIMIT $3)
       RETURNING id`,
      [firstIdAt('evt', before), before, limit],
    );
    return rows.length;
  }

  private columns(): string {
    this.eventColumns ??= columnsOf(this.dataSource, EventEntity);
    return this.eventColumns;
  }
}
