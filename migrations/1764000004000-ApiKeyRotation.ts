import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rotation keeps the key id (operations reference it): the new secret replaces secret_hash and the old one
 * moves here, accepted until previous_secret_expires_at (API_KEY_ROTATION_GRACE_SECONDS).
 */
export class ApiKeyRotation1764000004000 implements MigrationInterface {
  name = 'ApiKeyRotation1764000004000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys ADD COLUMN previous_secret_hash bytea`);
    await q.query(`ALTER TABLE api_keys ADD COLUMN previous_secret_expires_at timestamptz`);
    await q.query(
      `CREATE UNIQUE INDEX api_keys_previous_secret_hash_idx ON api_keys (previous_secret_hash) WHERE previous_secret_hash IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS api_keys_previous_secret_hash_idx`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN IF EXISTS previous_secret_expires_at`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN IF EXISTS previous_secret_hash`);
  }
}
