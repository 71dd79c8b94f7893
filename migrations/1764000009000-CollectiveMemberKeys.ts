import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Collectives: each member's contributions are wrapped under a key of their own, so removing a
 * member crypto-shreds exactly their data. `server_members.kms_key_ref` names that key; `files.kms_key_ref`
 * names the key that wrapped a file's data key (null: the server's tenant key, as before).
 */
export class CollectiveMemberKeys1764000009000 implements MigrationInterface {
  name = 'CollectiveMemberKeys1764000009000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE server_members ADD COLUMN kms_key_ref text`);
    await q.query(`ALTER TABLE files ADD COLUMN kms_key_ref text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE files DROP COLUMN IF EXISTS kms_key_ref`);
    await q.query(`ALTER TABLE server_members DROP COLUMN IF EXISTS kms_key_ref`);
  }
}
