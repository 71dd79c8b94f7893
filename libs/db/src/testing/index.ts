/**
 * Test helpers for the medium tier (not part of the public surface of @hearth/db): the repositories on the run's
 * real, freshly migrated Postgres, and seeders that write rows directly (never through the repository under
 * test), for two tenants at a time.
 */
import { Test, type TestingModule } from '@nestjs/testing';
import { HearthConfigModule, loadConfig } from '@hearth/config';
import { newId } from '@hearth/ids';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DatabaseModule, type RepositoryClass } from '../db.module';
import { AccessLogEntity } from '../entities/access-log.entity';
import { AccountEntity } from '../entities/account.entity';
import { AccessRequestEntity, type AccessRequestState } from '../entities/access-request.entity';
import { ApiKeyEntity } from '../entities/api-key.entity';
import { FileEntity } from '../entities/file.entity';
import { MemberEntity, type MemberRole } from '../entities/member.entity';
import { OperationEntity, type OperationStatus } from '../entities/operation.entity';
import { type ServerKind, ServerEntity } from '../entities/server.entity';

export * from './fill';
export * from './plans';

export interface RepositoryTesting {
  module: TestingModule;
  dataSource: DataSource;
  get<T>(type: new (...args: never[]) => T): T;
  close(): Promise<void>;
}

/**
 * The given repositories (DatabaseModule.forRoot + forFeature) on DATABASE_URL of this test run (`overrides` replace
 * settings of the environment, e.g. a bench's own DATABASE_URL).
 */
export async function repositoryTesting(
  repositories: RepositoryClass[],
  overrides: Record<string, string> = {},
): Promise<RepositoryTesting> {
  // why process.env: the test runner's environment, validated by the one config loader.
  const config = loadConfig({ ...process.env, DATABASE_POOL_SIZE: '4', ...overrides });
  const module = await Test.createTestingModule({
    imports: [
      HearthConfigModule.forRoot(config),
      DatabaseModule.forRoot(),
      DatabaseModule.forFeature(repositories),
    ],
  }).compile();
  module.useLogger(false);
  await module.init();
  return {
    module,
    dataSource: module.get(DataSource),
    get: <T>(type: new (...args: never[]) => T) => module.get(type),
    close: () => module.close(),
  };
}

export function randomAddress(): string {
  return `0x${randomBytes(20).toString('hex')}`;
}

export interface SeededServer {
  account: AccountEntity;
  server: ServerEntity;
}

/** A new account and a server it owns (personal unless told), with made-up key material. */
export async function seedServer(
  ds: DataSource,
  opts: { kind?: ServerKind; ownerAddress?: string } = {},
): Promise<SeededServer> {
  const address = (opts.ownerAddress ?? randomAddress()).toLowerCase();
  await ds
    .getRepository(AccountEntity)
    .createQueryBuilder()
    .insert()
    .values({ id: newId('acc'), address })
    .orIgnore()
    .execute();
  const account = await ds.getRepository(AccountEntity).findOneByOrFail({ address });
  const kind = opts.kind ?? 'personal';
  const id = newId('srv');
  const server = ds.getRepository(ServerEntity).create({
    id,
    kind,
    name: `test ${kind}`,
    ownerAccountId: account.id,
    ownerAddress: address,
    kmsKeyRef: `test-key:${id}`,
    address: randomAddress(),
    publicKey: `0x04${randomBytes(64).toString('hex')}`,
    wrappedIdentityKey: randomBytes(48),
    policyKind: kind === 'collective' ? 'whitelist' : 'grants',
    policyAddress: kind === 'collective' ? randomAddress() : null,
    kThreshold: 5,
  });
  await ds.getRepository(ServerEntity).insert(server);
  return { account, server: await ds.getRepository(ServerEntity).findOneByOrFail({ id }) };
}

export async function seedMember(
  ds: DataSource,
  serverId: string,
  opts: { address?: string; role?: MemberRole; kmsKeyRef?: string | null } = {},
): Promise<MemberEntity> {
  const id = newId('mem');
  await ds.getRepository(MemberEntity).insert({
    id,
    serverId,
    address: (opts.address ?? randomAddress()).toLowerCase(),
    role: opts.role ?? 'member',
    kmsKeyRef: opts.kmsKeyRef === undefined ? `test-member-key:${id}` : opts.kmsKeyRef,
  });
  return ds.getRepository(MemberEntity).findOneByOrFail({ id });
}

/** A file with the given sealed chunks (made-up bytes), ready unless told. */
export async function seedFile(
  ds: DataSource,
  serverId: string,
  opts: {
    contributorAddress?: string;
    chunks?: Buffer[];
    status?: 'uploading' | 'ready';
    /** Recorded size when it should differ from the chunks' (a file too large to seed for real). */
    size?: number;
  } = {},
): Promise<FileEntity> {
  const id = newId('fil');
  const chunks = opts.chunks ?? [randomBytes(32), randomBytes(32)];
  await ds.getRepository(FileEntity).insert({
    id,
    serverId,
    // Made-up sealed bytes: repositories never open them (a service test uploads through the gateway instead).
    sealedName: randomBytes(48),
    sealedContentType: randomBytes(38),
    size: String(opts.size ?? chunks.reduce((n, c) => n + c.length, 0)),
    encryption: 'server',
    wrappedDataKey: randomBytes(40),
    kmsKeyRef: null,
    chunkCount: chunks.length,
    ciphertextSha256: randomBytes(32).toString('hex'),
    contributorAddress: (opts.contributorAddress ?? randomAddress()).toLowerCase(),
    status: opts.status ?? 'ready',
  });
  for (const [seq, data] of chunks.entries()) {
    await ds.query('INSERT INTO file_chunks (file_id, seq, server_id, data) VALUES ($1, $2, $3, $4)', [
      id,
      seq,
      serverId,
      data,
    ]);
  }
  return ds.getRepository(FileEntity).findOneByOrFail({ id });
}

export async function seedApiKey(
  ds: DataSource,
  serverId: string,
  opts: { secretHash?: Buffer; appAddress?: string } = {},
): Promise<ApiKeyEntity> {
  const id = newId('key');
  await ds.getRepository(ApiKeyEntity).insert({
    id,
    serverId,
    name: 'seeded key',
    appAddress: (opts.appAddress ?? randomAddress()).toLowerCase(),
    secretHash: opts.secretHash ?? randomBytes(32),
    secretPrefix: 'hth_live_xx',
    operations: null,
    origins: null,
    ratePerMinute: 600,
    expiresAt: null,
    previousSecretHash: null,
    previousSecretExpiresAt: null,
    revokedAt: null,
    rotatedFrom: null,
  });
  return ds.getRepository(ApiKeyEntity).findOneByOrFail({ id });
}

/** A pending (unless told) access request of the server, by a random app, lapsing in a day unless told. */
export async function seedAccessRequest(
  ds: DataSource,
  serverId: string,
  opts: { status?: AccessRequestState; expiresAt?: Date } = {},
): Promise<AccessRequestEntity> {
  const id = newId('arq');
  await ds.getRepository(AccessRequestEntity).insert({
    id,
    serverId,
    appAddress: randomAddress(),
    appName: 'seeded app',
    operations: ['stats'],
    fileIds: [],
    allFiles: true,
    grantExpiresAt: null,
    purpose: 'seeded',
    returnUrl: null,
    origins: null,
    nonce: randomBytes(32),
    signature: randomBytes(65),
    status: opts.status ?? 'pending',
    expiresAt: opts.expiresAt ?? new Date(Date.now() + 86_400_000),
    decidedAt: null,
    grantId: null,
    keyId: null,
    keyClaimedAt: null,
  });
  return ds.getRepository(AccessRequestEntity).findOneByOrFail({ id });
}

export async function seedOperation(
  ds: DataSource,
  serverId: string,
  apiKeyId: string,
  opts: Partial<
    Pick<
      OperationEntity,
      'status' | 'fileIds' | 'idempotencyKey' | 'resultCiphertext' | 'resultExpiresAt' | 'receipt'
    >
  > & { status?: OperationStatus } = {},
): Promise<OperationEntity> {
  const id = newId('op');
  const operations = ds.getRepository(OperationEntity);
  await operations.save(
    operations.create({
      id,
      serverId,
      apiKeyId,
      appAddress: randomAddress(),
      operation: 'word_count',
      operationVersion: '1',
      sealedParameters: randomBytes(30),
      fileIds: opts.fileIds ?? [],
      grantId: null,
      status: opts.status ?? 'queued',
      errorCode: null,
      errorDetail: null,
      idempotencyKey: opts.idempotencyKey ?? null,
      requestHash: randomBytes(32).toString('hex'),
      resultCiphertext: opts.resultCiphertext ?? null,
      resultWrappedKey: opts.resultCiphertext ? randomBytes(40) : null,
      resultExpiresAt: opts.resultExpiresAt ?? null,
      receipt: opts.receipt ?? null,
      receiptHash: null,
      attempts: 0,
      timings: null,
      startedAt: null,
      finishedAt: null,
    }),
  );
  return operations.findOneByOrFail({ id });
}

export async function seedAccessLog(
  ds: DataSource,
  serverId: string,
  opts: {
    actor?: string;
    fileIds?: string[];
    operationId?: string | null;
    outcome?: AccessLogEntity['outcome'];
  } = {},
): Promise<AccessLogEntity> {
  const id = newId('log');
  await ds.getRepository(AccessLogEntity).insert({
    id,
    serverId,
    operationId: opts.operationId ?? null,
    actor: (opts.actor ?? randomAddress()).toLowerCase(),
    apiKeyId: null,
    grantId: null,
    operation: 'download',
    fileIds: opts.fileIds ?? [],
    outcome: opts.outcome ?? 'read',
    code: null,
    blockNumber: null,
    receiptHash: null,
  });
  return ds.getRepository(AccessLogEntity).findOneByOrFail({ id });
}

export async function seedUsage(
  ds: DataSource,
  serverId: string,
  apiKeyId: string,
  day: string,
  counts: { operations: number; computeMs: number; inputBytes: number },
): Promise<void> {
  await ds.query(
    `INSERT INTO usage_daily (server_id, api_key_id, day, operations, compute_ms, input_bytes)
     VALUES ($1, $2, $3::date, $4, $5, $6)`,
    [serverId, apiKeyId, day, counts.operations, counts.computeMs, counts.inputBytes],
  );
}

const TENANT_TABLES: Array<{ table: string; where: string; order: string }> = [
  { table: 'servers', where: 'id = $1', order: 'id' },
  { table: 'server_members', where: 'server_id = $1', order: 'id' },
  { table: 'api_keys', where: 'server_id = $1', order: 'id' },
  { table: 'files', where: 'server_id = $1', order: 'id' },
  { table: 'file_chunks', where: 'server_id = $1', order: 'file_id, seq' },
  { table: 'operations', where: 'server_id = $1', order: 'id' },
  { table: 'access_log', where: 'server_id = $1', order: 'id' },
  { table: 'usage_daily', where: 'server_id = $1', order: 'day, api_key_id' },
  { table: 'collective_datasets', where: 'server_id = $1', order: 'id' },
  { table: 'privacy_budgets', where: 'server_id = $1', order: 'app_address' },
  { table: 'access_requests', where: 'server_id = $1', order: 'id' },
  { table: 'events', where: 'server_id = $1', order: 'id' },
  { table: 'webhooks', where: 'server_id = $1', order: 'id' },
  { table: 'webhook_deliveries', where: 'server_id = $1', order: 'id' },
  { table: 'dp_documents', where: 'server_id = $1', order: 'file_id' },
  { table: 'dp_scopes', where: 'server_id = $1', order: 'scope_digest' },
  { table: 'dp_access_receipts', where: 'server_id = $1', order: 'access_log_id' },
];

/**
 * Every row of one tenant in every tenant table, for "nothing of it changed" assertions: take one before acting
 * as another tenant and compare with one taken after (assert.deepEqual).
 */
export async function tenantSnapshot(ds: DataSource, serverId: string): Promise<Record<string, unknown[]>> {
  const snapshot: Record<string, unknown[]> = {};
  for (const { table, where, order } of TENANT_TABLES) {
    snapshot[table] = await ds.query(`SELECT * FROM ${table} WHERE ${where} ORDER BY ${order}`, [serverId]);
  }
  return snapshot;
}
