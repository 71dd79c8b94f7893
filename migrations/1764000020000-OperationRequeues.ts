import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The reconciler re-queues unfinished operations whose job was lost: it counts how often (a budget), and finds
 * them by age among the unfinished ones only (a small partial index, however many operations finished).
 */
export class OperationRequeues1764000020000 implements MigrationInterface {
  name = 'OperationRequeues1764000020000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE operations ADD COLUMN requeues int NOT NULL DEFAULT 0`);
    await q.query(
      `CREATE INDEX operations_unfinished_idx ON operations (created_at) WHERE status IN ('queued', 'running')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS operations_unfinished_idx`);
    await q.query(`ALTER TABLE operations DROP COLUMN IF EXISTS requeues`);
  }
}
