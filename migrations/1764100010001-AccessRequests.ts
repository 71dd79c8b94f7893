import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Apps' signed access requests per server. Pages are tenant-leading (server_id, id COLLATE "C"), with and
 * without the stored status, like every other list (docs/architecture.md#pages).
 */
export class AccessRequests1764100010001 implements MigrationInterface {
  name = 'AccessRequests1764100010001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE access_requests (
        id text PRIMARY KEY,
        server_id text NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
        app_address text NOT NULL,
        app_name text NOT NULL,
        operations text[] NOT NULL,
        file_ids text[] NOT NULL,
        all_files boolean NOT NULL,
        grant_expires_at timestamptz,
        purpose text NOT NULL,
        return_url text,
        origins text[],
        nonce bytea NOT NULL CONSTRAINT access_requests_nonce_key UNIQUE,
        signature bytea NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        decided_at timestamptz,
        grant_id text,
        key_id text REFERENCES api_keys(id) ON DELETE SET NULL,
        key_claimed_at timestamptz
      )`);
    await q.query(`CREATE INDEX access_requests_page_idx ON access_requests (server_id, id COLLATE "C")`);
    await q.query(
      `CREATE INDEX access_requests_status_page_idx ON access_requests (server_id, status, id COLLATE "C")`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE access_requests`);
  }
}
