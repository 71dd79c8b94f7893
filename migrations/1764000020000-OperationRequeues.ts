import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The reconciler re-queues unfinished operations whose job was lost: it counts how often (a budget), and finds
 * them by age among the unfinished ones of its own queue (QUEUE_PREFIX: a database may serve several queues,
 * as parallel test runs do) through a small partial index, however many operations finished. Rows from before
 * carry the default prefix.
 */
export class OperationRequeues1764000020000 implements MigrationInterface {
  name = 'OperationRequeues1764000020000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE operations ADD COLUMN requeues int NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE operations ADD COLUMN queue_prefix text NOT NULL DEFAULT 'hearth'`);
    await q.query(
      `CREATE INDEX operations_unfinished_idx ON operations (queue_prefix, created_at) WHERE status IN ('queued', 'running')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS operations_unfinished_idx`);
    await q.query(`ALTER TABLE operations DROP COLUMN IF EXISTS queue_prefix`);
    await q.query(`ALTER TABLE operations DROP COLUMN IF EXISTS requeues`);
  }
}
