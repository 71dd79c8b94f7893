// test:slow: it fills eight tables with 100,000 rows each; the runner starts it first.
/*
 * A page costs what the tenant's own rows cost, whatever another tenant holds. Tenant A has a few rows in every
 * listed table; tenant B (and account B, for the server list) has 100,000 newer ones, written in one
 * INSERT … SELECT per table with ids that sort after every id newId() makes. After ANALYZE, each list must return
 * exactly A's rows, and the statement the repository sent (captured from TypeORM, so no copy of its SQL lives
 * here) must reach every filled table through an index led by the tenant column, seeking on it: as planned when
 * it runs (its parameters known), and as the generic plan a prepared statement would get under statistics that
 * take each tenant for half its table (set in a transaction rolled back after). No node may read B's rows to
 * throw them away, and a run stays within a few buffers: a deterministic stand-in for "as fast as alone".
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  captureStatements,
  describeScans,
  explain,
  fillOtherTenants,
  type OtherTenants,
  type PlanNode,
  planBuffers,
  randomAddress,
  type RepositoryTesting,
  repositoryTesting,
  rowsRemoved,
  seedAccessLog,
  seedAccessRequest,
  seedApiKey,
  type SeededServer,
  seedFile,
  seedMember,
  seedOperation,
  seedServer,
  seedUsage,
  tenantPlanProblems,
} from '../testing';
import { AccessLogRepository } from './access-log.repository';
import { AccessRequestRepository } from './access-request.repository';
import { ApiKeyRepository } from './api-key.repository';
import { EventRepository } from './event.repository';
import { FileRepository } from './file.repository';
import { MemberRepository } from './member.repository';
import { OperationRepository } from './operation.repository';
import { ServerRepository } from './server.repository';
import { UsageRepository } from './usage.repository';

/** Rows of the other tenant in each table. */
const FILL = 100_000;
/** A page of an empty table touches a handful of buffers; one that walks B's rows touches thousands. */
const MAX_BUFFERS = 50;
/**
 * Rows a page may read and drop: A's own (a member filter, a join to A's operations), a few dozen at most with
 * A's few rows per table; one of B's rows read to be dropped would come with tens of thousands more.
 */
const MAX_REMOVED = 20;

describe('List pages beside 100,000 newer rows of another tenant (real Postgres)', () => {
  let db: RepositoryTesting;
  let a: SeededServer;
  let b: SeededServer;
  /** A collective account A's address is a member of (account A's server list holds it). */
  let joined: SeededServer;
  /** A member of A, who also contributes to B and reads there (so a filter by address alone would hit B). */
  const member = randomAddress();
  const seeded = {
    logs: [] as string[],
    deniedLogs: [] as string[],
    memberLogs: [] as string[],
    files: [] as string[],
    memberFiles: [] as string[],
    keys: [] as string[],
    members: [] as string[],
    operations: [] as string[],
    succeeded: [] as string[],
    usage: [] as string[],
    requests: [] as string[],
    pendingRequests: [] as string[],
    events: [] as string[],
    keyEvents: [] as string[],
  };

  before(async () => {
    db = await repositoryTesting([
      AccessLogRepository,
      AccessRequestRepository,
      ApiKeyRepository,
      EventRepository,
      FileRepository,
      MemberRepository,
      OperationRepository,
      ServerRepository,
      UsageRepository,
    ]);
    const ds = db.dataSource;
    a = await seedServer(ds, { kind: 'collective' });
    joined = await seedServer(ds, { kind: 'collective' });
    await seedMember(ds, joined.server.id, { address: a.account.address });

    for (let i = 0; i < 3; i++) seeded.members.push((await seedMember(ds, a.server.id)).id);
    seeded.members.push((await seedMember(ds, a.server.id, { address: member })).id);
    const mine = await seedFile(ds, a.server.id, { contributorAddress: member });
    const other = await seedFile(ds, a.server.id);
    const mine2 = await seedFile(ds, a.server.id, { contributorAddress: member });
    seeded.files.push(mine.id, other.id, mine2.id);
    seeded.memberFiles.push(mine.id, mine2.id);
    const key = await seedApiKey(ds, a.server.id);
    seeded.keys.push(key.id, (await seedApiKey(ds, a.server.id)).id, (await seedApiKey(ds, a.server.id)).id);
    for (const status of ['succeeded', 'queued', 'succeeded'] as const) {
      const op = await seedOperation(ds, a.server.id, key.id, { status, receipt: { of: 'A' } });
      seeded.operations.push(op.id);
      if (status === 'succeeded') seeded.succeeded.push(op.id);
    }
    const touching = await seedAccessLog(ds, a.server.id, { fileIds: [other.id, mine.id] });
    const unrelated = await seedAccessLog(ds, a.server.id, {
      fileIds: [other.id],
      operationId: seeded.operations[0],
      outcome: 'succeeded',
    });
    const ownRead = await seedAccessLog(ds, a.server.id, { actor: member, fileIds: [other.id] });
    const refused = await seedAccessLog(ds, a.server.id, { fileIds: [other.id], outcome: 'denied' });
    seeded.logs.push(touching.id, unrelated.id, ownRead.id, refused.id);
    seeded.deniedLogs.push(refused.id);
    seeded.memberLogs.push(touching.id, ownRead.id);
    for (const day of ['2025-03-01', '2025-03-02', '2025-03-03']) {
      await seedUsage(ds, a.server.id, key.id, day, { operations: 1, computeMs: 2, inputBytes: 3 });
      seeded.usage.push(day);
    }

    for (const status of ['pending', 'denied', 'pending'] as const) {
      const request = await seedAccessRequest(ds, a.server.id, { status });
      seeded.requests.push(request.id);
      if (status === 'pending') seeded.pendingRequests.push(request.id);
    }

    const events = db.get(EventRepository);
    for (const type of ['api_key.created', 'api_key.rotated', 'api_key.created'] as const) {
      const recorded = await events.record(a.server.id, {
        type,
        data: { apiKeyId: key.id, appAddress: '0x' },
      });
      assert.ok(recorded);
      seeded.events.push(recorded.id);
      if (type === 'api_key.created') seeded.keyEvents.push(recorded.id);
    }

    b = await seedServer(ds, { kind: 'collective' });
    const others: OtherTenants = {
      rows: FILL,
      servers: [b.server.id],
      keys: [(await seedApiKey(ds, b.server.id)).id],
      accounts: [{ id: b.account.id, address: b.account.address }],
      address: member,
    };
    await fillOtherTenants(ds, others);

    // The premise: B's rows are newer than A's in every list's order.
    const newer: Array<[string, string, string, string, string]> = [
      ['access_log', 'id', 'server_id', a.server.id, b.server.id],
      ['files', 'id', 'server_id', a.server.id, b.server.id],
      ['operations', 'id', 'server_id', a.server.id, b.server.id],
      ['api_keys', 'id', 'server_id', a.server.id, b.server.id],
      ['access_requests', 'id', 'server_id', a.server.id, b.server.id],
      ['server_members', 'id', 'server_id', a.server.id, b.server.id],
      ['usage_daily', 'day', 'server_id', a.server.id, b.server.id],
      ['servers', 'id', 'owner_account_id', a.account.id, b.account.id],
      ['server_members', 'server_id', 'address', a.account.address, b.account.address],
    ];
    for (const [table, order, tenant, mineId, theirs] of newer) {
      const [row] = await ds.query<Array<{ sorted: boolean; count: number }>>(
        `SELECT (SELECT max(${order}) FROM ${table} WHERE ${tenant} = $1)
                  < (SELECT min(${order}) FROM ${table} WHERE ${tenant} = $2) AS sorted,
                (SELECT count(*)::int FROM ${table} WHERE ${tenant} = $2) AS count`,
        [mineId, theirs],
      );
      assert.ok(row.sorted && row.count >= FILL, `${table}: B's ${FILL} rows sort after A's`);
    }
  });

  // B's rows stay: no other case looks at B, and the run's database goes when the run ends. Deleting 100,000
  // servers (a cascade check per row and referencing table) would take longer than this whole suite.
  after(() => db.close());

  /**
   * Runs the page, checks it holds exactly `want` (ids, in order), then checks the one statement it sent, as
   * it runs and as a generic plan: `tenants` maps each filled table to its tenant column.
   */
  async function assertPage(
    page: () => Promise<Array<{ id: string } | { day: string }>>,
    want: string[],
    tenants: Record<string, string>,
  ): Promise<void> {
    const { result, statements } = await captureStatements(db.dataSource, page);
    assert.deepEqual(
      result.map((r) => ('id' in r ? r.id : r.day)),
      want,
    );
    assert.equal(statements.length, 1, 'one statement per page');
    const [statement] = statements;
    const twoTenants = Object.entries(tenants);
    const plans: Array<[string, PlanNode]> = [
      ['plan', await explain(db.dataSource, statement)],
      ['run', await explain(db.dataSource, statement, { analyze: true })],
      [
        'generic run, each tenant taken for half its table',
        await explain(db.dataSource, statement, { analyze: true, generic: true, twoTenants }),
      ],
    ];
    for (const [label, plan] of plans) {
      const scans = describeScans(plan).join('\n  ');
      assert.deepEqual(
        await tenantPlanProblems(db.dataSource, plan, tenants),
        [],
        `${label} reaches a table past its tenant:\n  ${scans}`,
      );
      if (label === 'plan') continue;
      assert.ok(
        rowsRemoved(plan) <= MAX_REMOVED,
        `${label} threw away ${rowsRemoved(plan)} rows:\n  ${scans}`,
      );
      assert.ok(
        planBuffers(plan) <= MAX_BUFFERS,
        `${label} touched ${planBuffers(plan)} buffers (at most ${MAX_BUFFERS}):\n  ${scans}`,
      );
    }
  }

  const newestFirst = (ids: string[]): string[] => [...ids].sort().reverse();
  const oldestFirst = (ids: string[]): string[] => [...ids].sort();

  describe('AccessLogRepository.list', () => {
    const tenants = { access_log: 'server_id', files: 'server_id', operations: 'server_id' };

    it("first page and the next: A's rows, newest first, with receipts", async () => {
      const log = db.get(AccessLogRepository);
      const want = newestFirst(seeded.logs);
      await assertPage(() => log.list(a.server.id, { limit: 50 }), want, tenants);
      // limit + 1 rows: the page and the one that tells there is a next.
      await assertPage(() => log.list(a.server.id, { limit: 1, cursor: want[0] }), want.slice(1, 3), tenants);
      const rows = await log.list(a.server.id, { limit: 50 });
      assert.deepEqual(rows.find((r) => r.operationId)?.receipt, { of: 'A' });
    });

    it('by outcome: the refused attempts, and everything that went through', async () => {
      // B's rows are half denials, half reads: each filter has B's rows of its own kind to stay clear of.
      const log = db.get(AccessLogRepository);
      const denied = newestFirst(seeded.deniedLogs);
      const allowed = newestFirst(seeded.logs.filter((id) => !seeded.deniedLogs.includes(id)));
      await assertPage(() => log.list(a.server.id, { limit: 50, outcome: 'denied' }), denied, tenants);
      await assertPage(() => log.list(a.server.id, { limit: 50, outcome: 'allowed' }), allowed, tenants);
      await assertPage(
        () => log.list(a.server.id, { limit: 1, cursor: allowed[0], outcome: 'allowed' }),
        allowed.slice(1),
        tenants,
      );
    });

    it('a member: the rows touching their contributions and their own reads', async () => {
      const log = db.get(AccessLogRepository);
      const want = newestFirst(seeded.memberLogs);
      await assertPage(() => log.list(a.server.id, { limit: 50 }, member), want, tenants);
      await assertPage(
        () => log.list(a.server.id, { limit: 50, cursor: want[0] }, member),
        want.slice(1),
        tenants,
      );
    });
  });

  describe('FileRepository.listReady', () => {
    const tenants = { files: 'server_id' };

    it("the owner's view: A's ready files, newest first", async () => {
      const files = db.get(FileRepository);
      const want = newestFirst(seeded.files);
      await assertPage(() => files.listReady(a.server.id, { limit: 50 }), want, tenants);
      await assertPage(
        () => files.listReady(a.server.id, { limit: 50, cursor: want[0] }),
        want.slice(1),
        tenants,
      );
    });

    it("a member's own contributions", async () => {
      const files = db.get(FileRepository);
      const want = newestFirst(seeded.memberFiles);
      await assertPage(
        () => files.listReady(a.server.id, { limit: 50, contributorAddress: member }),
        want,
        tenants,
      );
      await assertPage(
        () => files.listReady(a.server.id, { limit: 50, cursor: want[0], contributorAddress: member }),
        want.slice(1),
        tenants,
      );
    });
  });

  describe('OperationRepository.listForApiKey', () => {
    const tenants = { operations: 'server_id' };

    it("the key's operations newest first, and in one status", async () => {
      const operations = db.get(OperationRepository);
      const key = seeded.keys[0];
      const want = newestFirst(seeded.operations);
      await assertPage(() => operations.listForApiKey(a.server.id, key, { limit: 51 }), want, tenants);
      await assertPage(
        () => operations.listForApiKey(a.server.id, key, { limit: 51, cursor: want[0] }),
        want.slice(1),
        tenants,
      );
      await assertPage(
        () => operations.listForApiKey(a.server.id, key, { limit: 51, status: 'succeeded' }),
        newestFirst(seeded.succeeded),
        tenants,
      );
    });
  });

  describe('AccessRequestRepository.list', () => {
    it("A's requests in id order, and A's pending ones", async () => {
      const requests = db.get(AccessRequestRepository);
      const want = oldestFirst(seeded.requests);
      const tenants = { access_requests: 'server_id' };
      await assertPage(() => requests.list(a.server.id, { limit: 50 }), want, tenants);
      await assertPage(
        () => requests.list(a.server.id, { limit: 50, cursor: want[0] }),
        want.slice(1),
        tenants,
      );
      await assertPage(
        () => requests.list(a.server.id, { limit: 50, status: 'pending' }),
        oldestFirst(seeded.pendingRequests),
        tenants,
      );
    });
  });

  describe('EventRepository.list', () => {
    it("A's events newest first, and of one type", async () => {
      const events = db.get(EventRepository);
      const tenants = { events: 'server_id' };
      const want = [...seeded.events].reverse();
      await assertPage(() => events.list(a.server.id, { limit: 50 }), want, tenants);
      await assertPage(
        () => events.list(a.server.id, { limit: 50, cursor: want[0] }),
        want.slice(1),
        tenants,
      );
      await assertPage(
        () => events.list(a.server.id, { limit: 50, type: 'api_key.created' }),
        [...seeded.keyEvents].reverse(),
        tenants,
      );
    });
  });

  describe('ApiKeyRepository.list', () => {
    it("A's keys in id order", async () => {
      const keys = db.get(ApiKeyRepository);
      const want = oldestFirst(seeded.keys);
      const tenants = { api_keys: 'server_id' };
      await assertPage(() => keys.list(a.server.id, { limit: 50 }), want, tenants);
      await assertPage(() => keys.list(a.server.id, { limit: 50, cursor: want[0] }), want.slice(1), tenants);
    });
  });

  describe('MemberRepository.list', () => {
    it("A's members in joining order", async () => {
      const members = db.get(MemberRepository);
      const want = oldestFirst(seeded.members);
      const tenants = { server_members: 'server_id' };
      await assertPage(() => members.list(a.server.id, { limit: 50 }), want, tenants);
      await assertPage(
        () => members.list(a.server.id, { limit: 50, cursor: want[0] }),
        want.slice(1),
        tenants,
      );
    });
  });

  describe('UsageRepository.daily', () => {
    it("A's days, newest first, over a range that also covers B's", async () => {
      const usage = db.get(UsageRepository);
      const range = { from: '2025-01-01', to: '2030-12-31' };
      const want = [...seeded.usage].reverse();
      const tenants = { usage_daily: 'server_id' };
      await assertPage(() => usage.daily(a.server.id, range, { limit: 50 }), want, tenants);
      await assertPage(
        () =>
          usage.daily(a.server.id, range, { limit: 50, after: { day: want[0], apiKeyId: seeded.keys[0] } }),
        want.slice(1),
        tenants,
      );
    });
  });

  describe('ServerRepository.listForAccount', () => {
    it("account A's servers and the collectives it joined, in id order", async () => {
      const servers = db.get(ServerRepository);
      const want = oldestFirst([a.server.id, joined.server.id]);
      // The account is the tenant here: servers by owner, memberships by the account's address.
      const tenants = { servers: 'owner_account_id', server_members: 'address' };
      const list = (cursor?: string) =>
        servers.listForAccount(a.account.id, a.account.address, { limit: 50, cursor });
      await assertPage(() => list(), want, tenants);
      await assertPage(() => list(want[0]), want.slice(1), tenants);
    });
  });
});
