import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Collectives: aggregates run over the whole current contribution set or an admin-published, immutable
 * dataset (`collective_datasets`), never a set an app picks (`operations.dataset_id` names the dataset); optional
 * differential privacy: ε per operation and a total per app (`servers.privacy_*`), spent in `privacy_budgets`.
 */
export class CollectiveDatasetsAndPrivacy1764000040001 implements MigrationInterface {
  name = 'CollectiveDatasetsAndPrivacy1764000040001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE collective_datasets (
        id text PRIMARY KEY,
        server_id text NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
        version int NOT NULL,
        file_ids text[] NOT NULL,
        contributors int NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (server_id, version)
      )`);
    await q.query(`ALTER TABLE operations ADD COLUMN dataset_id text`);
    await q.query(
      `ALTER TABLE servers ADD COLUMN privacy_epsilon numeric, ADD COLUMN privacy_budget numeric`,
    );
    await q.query(`
      CREATE TABLE privacy_budgets (
        server_id text NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
        app_address text NOT NULL,
        spent numeric NOT NULL DEFAULT 0 CHECK (spent >= 0),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (server_id, app_address)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS privacy_budgets`);
    await q.query(
      `ALTER TABLE servers DROP COLUMN IF EXISTS privacy_epsilon, DROP COLUMN IF EXISTS privacy_budget`,
    );
    await q.query(`ALTER TABLE operations DROP COLUMN IF EXISTS dataset_id`);
    await q.query(`DROP TABLE IF EXISTS collective_datasets`);
  }
}
