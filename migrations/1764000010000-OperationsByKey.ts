import type { MigrationInterface, QueryRunner } from 'typeorm';

/** `GET /v1/operations` lists an API key's operations newest first, a page at a time. */
export class OperationsByKey1764000010000 implements MigrationInterface {
  name = 'OperationsByKey1764000010000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX operations_api_key_id_idx ON operations (api_key_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS operations_api_key_id_idx`);
  }
}
