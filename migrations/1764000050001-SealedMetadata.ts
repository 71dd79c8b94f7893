import { metadataAad, metadataKeyContext } from '@hearth/blobs';
import { loadConfig } from '@hearth/config';
import { sealValue } from '@hearth/crypto';
import { type KeyManager, keyManagerFromConfig } from '@hearth/kms';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * File names, content types and operation parameters leave plaintext: each is sealed (AES-256-GCM, the row id and
 * field in the AAD) under a per-server metadata key that the tenant key wraps, so a database dump alone reads none
 * of them. Rows written before this migration are sealed here, which needs the deployment's key manager (its
 * configuration is read only when such rows exist: a fresh database migrates without one); then the plaintext
 * columns are dropped.
 */
export class SealedMetadata1764000050001 implements MigrationInterface {
  name = 'SealedMetadata1764000050001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE server_metadata_keys (
        server_id text PRIMARY KEY REFERENCES servers(id) ON DELETE CASCADE,
        wrapped_key bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`ALTER TABLE files ADD COLUMN sealed_name bytea, ADD COLUMN sealed_content_type bytea`);
    await q.query(`ALTER TABLE operations ADD COLUMN sealed_parameters bytea`);
    await sealExistingRows(q);
    await q.query(
      `ALTER TABLE files ALTER COLUMN sealed_name SET NOT NULL, ALTER COLUMN sealed_content_type SET NOT NULL,
         DROP COLUMN name, DROP COLUMN content_type`,
    );
    await q.query(
      `ALTER TABLE operations ALTER COLUMN sealed_parameters SET NOT NULL, DROP COLUMN parameters`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    // The plaintext cannot come back without the key manager; the columns come back empty.
    await q.query(
      `ALTER TABLE files ADD COLUMN name text NOT NULL DEFAULT '', ADD COLUMN content_type text NOT NULL
         DEFAULT 'application/octet-stream', DROP COLUMN sealed_name, DROP COLUMN sealed_content_type`,
    );
    await q.query(
      `ALTER TABLE operations ADD COLUMN parameters jsonb NOT NULL DEFAULT '{}', DROP COLUMN sealed_parameters`,
    );
    await q.query(`DROP TABLE server_metadata_keys`);
  }
}

/** Seals every plaintext row, server by server (one metadata key each). */
async function sealExistingRows(q: QueryRunner): Promise<void> {
  const servers: Array<{ id: string; kms_key_ref: string }> = await rowsOf(
    q,
    `SELECT s.id, s.kms_key_ref FROM servers s
      WHERE EXISTS (SELECT 1 FROM files f WHERE f.server_id = s.id)
         OR EXISTS (SELECT 1 FROM operations o WHERE o.server_id = s.id)`,
  );
  if (servers.length === 0) return;
  const keys: KeyManager = await keyManagerFromConfig(loadConfig());
  for (const server of servers) {
    const dataKey = await keys.generateDataKey(server.kms_key_ref, metadataKeyContext(server.id));
    try {
      await q.query(`INSERT INTO server_metadata_keys (server_id, wrapped_key) VALUES ($1, $2)`, [
        server.id,
        dataKey.wrapped,
      ]);
      const seal = (field: Parameters<typeof metadataAad>[1], rowId: string, text: string) =>
        sealValue(dataKey.plaintext, metadataAad(server.id, field, rowId), Buffer.from(text, 'utf8'));
      const files: Array<{ id: string; name: string; content_type: string }> = await rowsOf(
        q,
        `SELECT id, name, content_type FROM files WHERE server_id = $1`,
        [server.id],
      );
      for (const f of files) {
        await q.query(
          `UPDATE files SET sealed_name = $3, sealed_content_type = $4 WHERE server_id = $1 AND id = $2`,
          [server.id, f.id, seal('file.name', f.id, f.name), seal('file.contentType', f.id, f.content_type)],
        );
      }
      const ops: Array<{ id: string; parameters: unknown }> = await rowsOf(
        q,
        `SELECT id, parameters FROM operations WHERE server_id = $1`,
        [server.id],
      );
      for (const o of ops) {
        await q.query(`UPDATE operations SET sealed_parameters = $3 WHERE server_id = $1 AND id = $2`, [
          server.id,
          o.id,
          seal('operation.parameters', o.id, JSON.stringify(o.parameters ?? {})),
        ]);
      }
    } finally {
      dataKey.plaintext.fill(0);
    }
  }
}

/** QueryRunner.query answers any; the statements above list their columns. */
async function rowsOf<T>(q: QueryRunner, sql: string, params: unknown[] = []): Promise<T> {
  return (await q.query(sql, params)) as T;
}
