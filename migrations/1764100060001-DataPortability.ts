import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The Data Portability Protocol's scopes: each version of a scope document is a Hearth file (dp_documents maps it
 * to its sealed scope and collection time), the owner's per-scope readable setting (dp_scopes), and the signed
 * receipts of protocol reads and refusals (dp_access_receipts, beside their access-log rows). Every index leads
 * with the tenant.
 */
export class DataPortability1764100060001 implements MigrationInterface {
  name = 'DataPortability1764100060001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE dp_documents (
        file_id text PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
        server_id text NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
        scope_digest text NOT NULL,
        sealed_scope bytea NOT NULL,
        collected_at timestamptz NOT NULL
      )`);
    await q.query(
      `CREATE INDEX dp_documents_scope_idx ON dp_documents (server_id, scope_digest, collected_at DESC, file_id DESC)`,
    );
    await q.query(`
      CREATE TABLE dp_scopes (
        server_id text NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
        scope_digest text NOT NULL,
        sealed_scope bytea NOT NULL,
        readable boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (server_id, scope_digest)
      )`);
    await q.query(`
      CREATE TABLE dp_access_receipts (
        access_log_id text PRIMARY KEY REFERENCES access_log(id) ON DELETE CASCADE,
        server_id text NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
        receipt jsonb NOT NULL,
        sealed_scope bytea,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX dp_access_receipts_server_idx ON dp_access_receipts (server_id, access_log_id)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE dp_access_receipts`);
    await q.query(`DROP TABLE dp_scopes`);
    await q.query(`DROP TABLE dp_documents`);
  }
}
