import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A file's records and search index, built once per file version by the indexing job and sealed under a key
 * derived from the file's own data key: deleted with the file (cascade) and unreadable once its data key is
 * shredded. `ciphertext_sha256` names the file version the index was built from; `records` and `error_code`
 * are counts and codes, never data.
 */
export class FileRecordIndexes1764100050001 implements MigrationInterface {
  name = 'FileRecordIndexes1764100050001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE file_indexes (
        file_id text PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
        server_id text NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
        ciphertext_sha256 text NOT NULL,
        status text NOT NULL CHECK (status IN ('ready', 'failed')),
        format_version int NOT NULL,
        sealed_index bytea,
        records int NOT NULL DEFAULT 0,
        error_code text,
        built_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX file_indexes_server ON file_indexes (server_id, file_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE file_indexes`);
  }
}
