import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The access log filtered by outcome (`?outcome=denied|allowed`) is served by an index led by its tenant, like
 * every page (docs/architecture.md#pages): one partial index per filter, so a tenant flooded with refusals
 * pages through its reads without walking them, and the other way round.
 */
export class AccessLogOutcomePages1764000030000 implements MigrationInterface {
  name = 'AccessLogOutcomePages1764000030000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX access_log_denied_page_idx ON access_log (server_id, id COLLATE "C") WHERE outcome = 'denied'`,
    );
    await q.query(
      `CREATE INDEX access_log_allowed_page_idx ON access_log (server_id, id COLLATE "C") WHERE outcome <> 'denied'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS access_log_allowed_page_idx`);
    await q.query(`DROP INDEX IF EXISTS access_log_denied_page_idx`);
  }
}
