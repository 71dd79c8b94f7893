import type { DataSource } from 'typeorm';

export interface OtherTenants {
  /** Rows per table. */
  rows: number;
  /** Servers that get the rows of the tenant tables, in turn; `keys[i]` is an API key of `servers[i]`. */
  servers: string[];
  keys: string[];
  /** Accounts that get `rows` servers of their own and a membership in each, in turn (the server list's tenants). */
  accounts: Array<{ id: string; address: string }>;
  /** The actor of the access-log rows and the contributor of the files (an address that is also A's member). */
  address: string;
}

/** The n-th filler id of a prefix: 'ffff' after the prefix sorts after every uuidv7 of the next millennia. */
const fillerId = (prefix: string): string => `'${prefix}_ffff' || lpad(to_hex(g), 28, '0')`;

/**
 * Other tenants' rows, newer than every row newId() made so far, one INSERT … SELECT per table: access log,
 * files, operations, API keys, access requests, members, events, usage (100 keys over 1,000 days from 2026-01-01) and servers with a
 * membership each. Then ANALYZE, so the planner knows them.
 */
export async function fillOtherTenants(ds: DataSource, o: OtherTenants): Promise<void> {
  // Row g goes to tenant g mod n: the tenants' rows interleave in id order, as concurrent tenants' do.
  const server = `($1::text[])[g % ${o.servers.length} + 1]`;
  const account = `($1::text[])[g % ${o.accounts.length} + 1]`;
  const accountAddress = `($2::text[])[g % ${o.accounts.length} + 1]`;
  const series = `generate_series(1, ${o.rows}) g`;
  const accounts = [o.accounts.map((x) => x.id), o.accounts.map((x) => x.address)];
  const fills: Array<[string, unknown[]]> = [
    [
      `INSERT INTO access_log (id, server_id, actor, file_ids, outcome, operation)
       SELECT ${fillerId('log')}, ${server}, $2, '{}', CASE WHEN g % 2 = 0 THEN 'denied' ELSE 'read' END,
              'download' FROM ${series}`,
      [o.servers, o.address],
    ],
    [
      `INSERT INTO files (id, server_id, sealed_name, sealed_content_type, size, encryption, contributor_address, status)
       SELECT ${fillerId('fil')}, ${server}, '\\x00', '\\x00', 1, 'server', $2, 'ready' FROM ${series}`,
      [o.servers, o.address],
    ],
    [
      `INSERT INTO operations (id, server_id, api_key_id, app_address, operation, operation_version,
         sealed_parameters, file_ids, status, request_hash)
       SELECT ${fillerId('op')}, ${server}, ($2::text[])[g % ${o.servers.length} + 1], '0x', 'word_count', '1',
              '\\x00', '{}', 'succeeded', 'h'
         FROM ${series}`,
      [o.servers, o.keys],
    ],
    [
      `INSERT INTO api_keys (id, server_id, name, app_address, secret_hash, secret_prefix, rate_per_minute)
       SELECT ${fillerId('key')}, ${server}, 'filler', '0x', decode(lpad(to_hex(g), 64, '0'), 'hex'), 'hth_', 60
         FROM ${series}`,
      [o.servers],
    ],
    [
      `INSERT INTO access_requests (id, server_id, app_address, app_name, operations, file_ids, all_files, purpose,
         nonce, signature, status, expires_at)
       SELECT ${fillerId('arq')}, ${server}, '0x', 'filler', '{stats}', '{}', true, 'filler',
              decode(lpad(to_hex(g), 64, '0'), 'hex'), '\\x00',
              CASE WHEN g % 3 = 0 THEN 'denied' ELSE 'pending' END, now() + interval '1 day'
         FROM ${series}`,
      [o.servers],
    ],
    [
      `INSERT INTO server_members (id, server_id, address, role)
       SELECT ${fillerId('mem')}, ${server}, '0x' || lpad(to_hex(g), 40, '0'), 'member' FROM ${series}`,
      [o.servers],
    ],
    [
      // Dispatched already: the outbox of every test process's dispatcher stays A's own.
      `INSERT INTO events (id, server_id, type, data, dispatched_at)
       SELECT ${fillerId('evt')}, ${server}, CASE WHEN g % 2 = 0 THEN 'api_key.created' ELSE 'operation.succeeded' END,
              '{}', now() FROM ${series}`,
      [o.servers],
    ],
    [
      `INSERT INTO usage_daily (server_id, api_key_id, day, operations)
       SELECT ${server}, 'key_ffff' || lpad(to_hex(g / 1000), 28, '0'), date '2026-01-01' + g % 1000, 1
         FROM ${series}`,
      [o.servers],
    ],
    [
      `INSERT INTO servers (id, kind, name, owner_account_id, owner_address, kms_key_ref, address, public_key,
         wrapped_identity_key, policy_kind, policy_address)
       SELECT ${fillerId('srv')}, 'collective', 'filler', ${account}, ${accountAddress}, 'k', '0x', '0x', '\\x00',
              'whitelist', '0x'
         FROM ${series}`,
      accounts,
    ],
    [
      `INSERT INTO server_members (id, server_id, address, role)
       SELECT 'mem_fffe' || lpad(to_hex(g), 28, '0'), ${fillerId('srv')}, ($1::text[])[g % ${o.accounts.length} + 1],
              'member'
         FROM ${series}`,
      [accounts[1]],
    ],
  ];
  // The tables fill at once, on separate connections of the pool (the members' second fill needs its servers).
  const [serversFill, membershipsFill] = fills.slice(-2);
  await Promise.all([
    ...fills.slice(0, -2).map(([sql, params]) => ds.query(sql, params)),
    ds.query(...serversFill).then(() => ds.query(...membershipsFill)),
  ]);
  await ds.query(
    'ANALYZE access_log, files, operations, api_keys, access_requests, server_members, usage_daily, servers',
  );
}
