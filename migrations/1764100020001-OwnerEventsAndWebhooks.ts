import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The owner's event feed (also the webhooks' outbox), the webhooks and their delivery log. Pages are served by
 * indexes led by the tenant (docs/architecture.md#pages); the dispatcher finds undispatched events through a
 * partial index that only holds them. A webhook belongs to the queue (QUEUE_PREFIX) of the gateway that created it:
 * only that queue's dispatcher sends its server's events, as only an operation's own queue runs it.
 */
export class OwnerEventsAndWebhooks1764100020001 implements MigrationInterface {
  name = 'OwnerEventsAndWebhooks1764100020001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        id text PRIMARY KEY,
        server_id text NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
        type text NOT NULL,
        data jsonb NOT NULL,
        dedupe_key text,
        dispatched_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX events_page_idx ON events (server_id, id COLLATE "C")`);
    await q.query(`CREATE INDEX events_type_page_idx ON events (server_id, type, id COLLATE "C")`);
    await q.query(
      `CREATE INDEX events_undispatched_idx ON events (id COLLATE "C") WHERE dispatched_at IS NULL`,
    );
    await q.query(
      `CREATE UNIQUE INDEX events_dedupe_idx ON events (server_id, dedupe_key) WHERE dedupe_key IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE webhooks (
        id text PRIMARY KEY,
        server_id text NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
        url text NOT NULL,
        events text[],
        sealed_secret bytea NOT NULL,
        status text NOT NULL DEFAULT 'active',
        consecutive_failures int NOT NULL DEFAULT 0,
        disabled_at timestamptz,
        queue_prefix text NOT NULL DEFAULT 'hearth',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX webhooks_page_idx ON webhooks (server_id, id COLLATE "C")`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id text PRIMARY KEY,
        server_id text NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
        webhook_id text NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        event_id text NOT NULL,
        attempt int NOT NULL,
        status_code int,
        error_code text,
        duration_ms int NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX webhook_deliveries_page_idx ON webhook_deliveries (server_id, webhook_id, id COLLATE "C")`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE webhooks`);
    await q.query(`DROP TABLE events`);
  }
}
