import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Relayed transactions per account and UTC day: the relayer's gas is a shared resource. */
export class Quotas1764000050002 implements MigrationInterface {
  name = 'Quotas1764000050002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE relay_usage_daily (
        account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        day date NOT NULL,
        transactions int NOT NULL DEFAULT 0,
        PRIMARY KEY (account_id, day)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE relay_usage_daily`);
  }
}
