import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metadataAad, metadataKeyContext } from '@hearth/blobs';
import { loadConfig } from '@hearth/config';
import { openValue } from '@hearth/crypto';
import { type KeyManager, keyManagerFromConfig } from '@hearth/kms';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source';

/**
 * The sealing migration on a database that already holds plaintext (a wave-1 install): its file names, content
 * types and operation parameters come out sealed under a metadata key the key manager unwraps, the plaintext
 * columns are gone, and no plaintext is left in any row.
 */
describe('migration SealedMetadata on an install with plaintext rows (real Postgres, local key manager)', () => {
  const base = new URL(loadConfig().DATABASE_URL);
  const dbName = `hearth_mig_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const url = new URL(base.toString());
  url.pathname = `/${dbName}`;
  const home = mkdtempSync(join(tmpdir(), 'hearth-mig-'));
  const migrationsDir = join(__dirname, '..', '..', '..', 'migrations');
  const all = readdirSync(migrationsDir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(migrationsDir, f));
  let keys: KeyManager;
  let admin: Client;
  const serverId = `srv_${randomBytes(16).toString('hex')}`;
  const fileId = `fil_${randomBytes(16).toString('hex')}`;
  const opId = `op_${randomBytes(16).toString('hex')}`;
  const NAME = `biopsy-${randomBytes(6).toString('hex')}.pdf`;
  const TYPE = `text/x-${randomBytes(6).toString('hex')}`;
  const QUESTION = `Is it ${randomBytes(6).toString('hex')}?`;

  async function migrate(files: string[]): Promise<void> {
    const ds = new DataSource({
      ...dataSourceOptions({ url: url.toString(), poolSize: 2 }),
      migrations: files,
    });
    await ds.initialize();
    try {
      await ds.runMigrations({ transaction: 'each' });
    } finally {
      await ds.destroy();
    }
  }

  before(async () => {
    // The migration builds its key manager from the environment, as `npm run migrate` does.
    process.env.KEYSTORE_DIR = join(home, 'keystore');
    process.env.HEARTH_MASTER_KEY = randomBytes(32).toString('hex');
    keys = await keyManagerFromConfig(loadConfig());
    admin = new Client({ connectionString: base.toString() });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${dbName}"`);
    await migrate(all.filter((f) => !/1764000050\d\d\d-/.test(f)));
    const { keyRef } = await keys.createTenantKey(serverId);
    const db = new Client({ connectionString: url.toString() });
    await db.connect();
    try {
      await db.query(`INSERT INTO accounts (id, address) VALUES ('acc_1', '0xabc')`);
      await db.query(
        `INSERT INTO servers (id, kind, name, owner_account_id, owner_address, kms_key_ref, address, public_key,
           wrapped_identity_key) VALUES ($1, 'personal', 'p', 'acc_1', '0xabc', $2, '0x1', '0x04', '\\x00')`,
        [serverId, keyRef],
      );
      await db.query(
        `INSERT INTO files (id, server_id, name, content_type, size, encryption, contributor_address)
         VALUES ($1, $2, $3, $4, 1, 'server', '0xabc')`,
        [fileId, serverId, NAME, TYPE],
      );
      await db.query(
        `INSERT INTO operations (id, server_id, api_key_id, app_address, operation, operation_version, parameters,
           file_ids, status, request_hash) VALUES ($1, $2, 'key_1', '0x', 'ask', '1', $3, '{}', 'succeeded', 'h')`,
        [opId, serverId, JSON.stringify({ question: QUESTION })],
      );
    } finally {
      await db.end();
    }
    await migrate(all);
  });

  after(async () => {
    await admin?.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin?.end();
    rmSync(home, { recursive: true, force: true });
  });

  it('seals the rows under a metadata key the key manager opens, and drops the plaintext columns', async () => {
    const db = new Client({ connectionString: url.toString() });
    await db.connect();
    try {
      const columns = await db.query<{ c: string }>(
        `SELECT table_name || '.' || column_name AS c FROM information_schema.columns
          WHERE table_name IN ('files', 'operations') AND column_name IN ('name', 'content_type', 'parameters')`,
      );
      assert.deepEqual(columns.rows, []);
      const dump = await db.query<{ row: string }>(
        `SELECT f::text AS row FROM files f UNION ALL SELECT o::text FROM operations o`,
      );
      const text = dump.rows.map((r) => r.row).join('\n');
      for (const plain of [NAME, TYPE, QUESTION]) assert.equal(text.includes(plain), false, plain);
      const [{ kms_key_ref: keyRef }] = (
        await db.query<{ kms_key_ref: string }>(`SELECT kms_key_ref FROM servers WHERE id = $1`, [serverId])
      ).rows;
      const [{ wrapped_key: wrapped }] = (
        await db.query<{ wrapped_key: Buffer }>(
          `SELECT wrapped_key FROM server_metadata_keys WHERE server_id = $1`,
          [serverId],
        )
      ).rows;
      const key = await keys.unwrapDataKey(keyRef, wrapped, metadataKeyContext(serverId));
      const [file] = (
        await db.query<{ sealed_name: Buffer; sealed_content_type: Buffer }>(
          `SELECT sealed_name, sealed_content_type FROM files WHERE id = $1`,
          [fileId],
        )
      ).rows;
      const [op] = (
        await db.query<{ sealed_parameters: Buffer }>(
          `SELECT sealed_parameters FROM operations WHERE id = $1`,
          [opId],
        )
      ).rows;
      assert.equal(
        openValue(key, metadataAad(serverId, 'file.name', fileId), file.sealed_name).toString(),
        NAME,
      );
      assert.equal(
        openValue(
          key,
          metadataAad(serverId, 'file.contentType', fileId),
          file.sealed_content_type,
        ).toString(),
        TYPE,
      );
      assert.deepEqual(
        JSON.parse(
          openValue(
            key,
            metadataAad(serverId, 'operation.parameters', opId),
            op.sealed_parameters,
          ).toString(),
        ),
        { question: QUESTION },
      );
    } finally {
      await db.end();
    }
  });
});
