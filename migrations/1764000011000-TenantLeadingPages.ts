import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every list is served by an index led by its tenant, whatever the statistics say. The pages order and compare
 * ids as `id COLLATE "C"`; only these indexes keep ids in that collation, so the primary key (database default
 * collation) cannot hand the planner the page's order, and walking it while filtering out other tenants' rows
 * stops being a plan at all. For `<prefix>_<lowercase hex>` ids the "C" order is the default order of any
 * database collation, so cursors keep their meaning. Why, in full: docs/architecture.md#pages.
 *
 * Plain CREATE INDEX: TypeORM runs each migration in a transaction, where CONCURRENTLY is not allowed.
 */
export class TenantLeadingPages1764000011000 implements MigrationInterface {
  name = 'TenantLeadingPages1764000011000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX access_log_page_idx ON access_log (server_id, id COLLATE "C")`);
    await q.query(`DROP INDEX access_log_server_id_idx`);

    await q.query(`CREATE INDEX files_page_idx ON files (server_id, id COLLATE "C")`);
    // A member's own contributions: their page, a member's removal.
    await q.query(
      `CREATE INDEX files_contributor_page_idx ON files (server_id, contributor_address, id COLLATE "C")`,
    );
    await q.query(`DROP INDEX files_server_id_idx`);

    // One key's operations, the page of GET /v1/operations; it also serves the cascade from servers.
    await q.query(
      `CREATE INDEX operations_key_page_idx ON operations (server_id, api_key_id, id COLLATE "C")`,
    );
    await q.query(`DROP INDEX operations_api_key_id_idx`);
    await q.query(`DROP INDEX operations_server_id_idx`);

    await q.query(`CREATE INDEX api_keys_page_idx ON api_keys (server_id, id COLLATE "C")`);
    await q.query(`DROP INDEX api_keys_server_id_idx`);

    await q.query(`CREATE INDEX server_members_page_idx ON server_members (server_id, id COLLATE "C")`);
    // The collectives an address belongs to, in server id order (an account's server list).
    await q.query(
      `CREATE INDEX server_members_address_page_idx ON server_members (address, server_id COLLATE "C")`,
    );
    await q.query(`DROP INDEX server_members_address_idx`);

    // The account is the tenant of its server list.
    await q.query(`CREATE INDEX servers_owner_page_idx ON servers (owner_account_id, id COLLATE "C")`);
    await q.query(`DROP INDEX servers_owner_account_id_idx`);

    // Usage pages by day, then key: an order no other index has (the primary key is server, key, day).
    await q.query(`CREATE INDEX usage_daily_page_idx ON usage_daily (server_id, day, api_key_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS usage_daily_page_idx`);
    await q.query(`CREATE INDEX servers_owner_account_id_idx ON servers (owner_account_id, id)`);
    await q.query(`DROP INDEX IF EXISTS servers_owner_page_idx`);
    await q.query(`CREATE INDEX server_members_address_idx ON server_members (address)`);
    await q.query(`DROP INDEX IF EXISTS server_members_address_page_idx`);
    await q.query(`DROP INDEX IF EXISTS server_members_page_idx`);
    await q.query(`CREATE INDEX api_keys_server_id_idx ON api_keys (server_id, id)`);
    await q.query(`DROP INDEX IF EXISTS api_keys_page_idx`);
    await q.query(`CREATE INDEX operations_server_id_idx ON operations (server_id, id)`);
    await q.query(`CREATE INDEX operations_api_key_id_idx ON operations (api_key_id, id)`);
    await q.query(`DROP INDEX IF EXISTS operations_key_page_idx`);
    await q.query(`CREATE INDEX files_server_id_idx ON files (server_id, id)`);
    await q.query(`DROP INDEX IF EXISTS files_contributor_page_idx`);
    await q.query(`DROP INDEX IF EXISTS files_page_idx`);
    await q.query(`CREATE INDEX access_log_server_id_idx ON access_log (server_id, id)`);
    await q.query(`DROP INDEX IF EXISTS access_log_page_idx`);
  }
}
