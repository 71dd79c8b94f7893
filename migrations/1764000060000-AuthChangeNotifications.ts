import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Gateways cache what an API key authenticates to (the key and its server's row). Every change to either table
 * — by any replica, any code path, or an operator's own SQL — is announced on `hearth_auth_changed` with the
 * server id, after commit, so every cache drops that server's entries at once. Only updates and deletes: a new
 * key is never in a cache (unknown keys are not cached).
 */
export class AuthChangeNotifications1764000060000 implements MigrationInterface {
  name = 'AuthChangeNotifications1764000060000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION hearth_notify_auth_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Branches, not CASE: PL/pgSQL resolves a record's fields in the whole expression, for either table.
        IF TG_TABLE_NAME = 'servers' THEN
          PERFORM pg_notify('hearth_auth_changed', OLD.id);
        ELSE
          PERFORM pg_notify('hearth_auth_changed', OLD.server_id);
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER api_keys_auth_changed AFTER UPDATE OR DELETE ON api_keys
      FOR EACH ROW EXECUTE FUNCTION hearth_notify_auth_change()`);
    await q.query(`
      CREATE TRIGGER servers_auth_changed AFTER UPDATE OR DELETE ON servers
      FOR EACH ROW EXECUTE FUNCTION hearth_notify_auth_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER servers_auth_changed ON servers`);
    await q.query(`DROP TRIGGER api_keys_auth_changed ON api_keys`);
    await q.query(`DROP FUNCTION hearth_notify_auth_change()`);
  }
}
