import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1764000000000 implements MigrationInterface {
  name = 'Initial1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE accounts (
        id text PRIMARY KEY,
        address text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE sessions (
        id text PRIMARY KEY,
        account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        token_hash bytea NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX sessions_account_id_idx ON sessions (account_id)`);
    await q.query(`
      CREATE TABLE servers (
        id text PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('personal', 'collective')),
        name text NOT NULL,
        owner_account_id text NOT NULL REFERENCES accounts(id),
        owner_address text NOT NULL,
        kms_key_ref text NOT NULL,
        address text NOT NULL,
        public_key text NOT NULL,
        wrapped_identity_key bytea NOT NULL,
        policy_kind text NOT NULL DEFAULT 'grants' CHECK (policy_kind IN ('grants', 'contract', 'whitelist')),
        policy_address text,
        k_threshold int NOT NULL DEFAULT 5,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX servers_owner_account_id_idx ON servers (owner_account_id, id)`);
    // One personal server per account: provisioning at first sign-in must be idempotent under races.
    await q.query(
      `CREATE UNIQUE INDEX servers_one_personal_idx ON servers (owner_account_id) WHERE kind = 'personal'`,
    );
    await q.query(`
      CREATE TABLE server_members (
        id text PRIMARY KEY,
        server_id text NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
        address text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'member')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE UNIQUE INDEX server_members_server_address_idx ON server_members (server_id, address)`,
    );
    await q.query(`CREATE INDEX server_members_address_idx ON server_members (address)`);
    await q.query(`
      CREATE TABLE api_keys (
        id text PRIMARY KEY,
        server_id text NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
        name text NOT NULL,
        app_address text NOT NULL,
        secret_hash bytea NOT NULL UNIQUE,
        secret_prefix text NOT NULL,
        operations text[],
        origins text[],
        rate_per_minute int NOT NULL,
        expires_at timestamptz,
        revoked_at timestamptz,
        rotated_from text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX api_keys_server_id_idx ON api_keys (server_id, id)`);
    await q.query(`
      CREATE TABLE files (
        id text PRIMARY KEY,
        server_id text NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
        name text NOT NULL,
        content_type text NOT NULL,
        size bigint NOT NULL,
        encryption text NOT NULL CHECK (encryption IN ('server', 'client')),
        wrapped_data_key bytea,
        chunk_count int NOT NULL DEFAULT 0,
        ciphertext_sha256 text,
        contributor_address text NOT NULL,
        status text NOT NULL DEFAULT 'ready' CHECK (status IN ('uploading', 'ready')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX files_server_id_idx ON files (server_id, id)`);
    await q.query(`
      CREATE TABLE file_chunks (
        file_id text NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        seq int NOT NULL,
        server_id text NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (file_id, seq)
      )`);
    await q.query(`
      CREATE TABLE operations (
        id text PRIMARY KEY,
        server_id text NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
        api_key_id text NOT NULL,
        app_address text NOT NULL,
        operation text NOT NULL,
        operation_version text NOT NULL,
        parameters jsonb NOT NULL,
        file_ids text[] NOT NULL,
        grant_id text,
        status text NOT NULL,
        error_code text,
        error_detail text,
        idempotency_key text,
        request_hash text NOT NULL,
        result_ciphertext bytea,
        result_wrapped_key bytea,
        result_expires_at timestamptz,
        receipt jsonb,
        receipt_hash text,
        attempts int NOT NULL DEFAULT 0,
        timings jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz
      )`);
    await q.query(`CREATE INDEX operations_server_id_idx ON operations (server_id, id)`);
    await q.query(
      `CREATE UNIQUE INDEX operations_idempotency_idx ON operations (api_key_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX operations_result_expiry_idx ON operations (result_expires_at) WHERE result_ciphertext IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE access_log (
        id text PRIMARY KEY,
        server_id text NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
        operation_id text,
        actor text NOT NULL,
        api_key_id text,
        grant_id text,
        operation text,
        file_ids text[] NOT NULL,
        outcome text NOT NULL,
        code text,
        block_number text,
        receipt_hash text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX access_log_server_id_idx ON access_log (server_id, id)`);
    // One access-log row per operation outcome: a retried job cannot log twice.
    await q.query(
      `CREATE UNIQUE INDEX access_log_operation_idx ON access_log (operation_id) WHERE operation_id IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE usage_daily (
        server_id text NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
        api_key_id text NOT NULL,
        day date NOT NULL,
        operations int NOT NULL DEFAULT 0,
        compute_ms bigint NOT NULL DEFAULT 0,
        input_bytes bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (server_id, api_key_id, day)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'usage_daily',
      'access_log',
      'operations',
      'file_chunks',
      'files',
      'api_keys',
      'server_members',
      'servers',
      'sessions',
      'accounts',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
