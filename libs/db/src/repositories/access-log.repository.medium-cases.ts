import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  randomAddress,
  type RepositoryTesting,
  repositoryTesting,
  seedAccessLog,
  seedApiKey,
  type SeededServer,
  seedFile,
  seedOperation,
  seedServer,
  tenantSnapshot,
} from '../testing';
import { AccessLogRepository, type NewAccessLogEntry } from './access-log.repository';

function read(actor: string, fileIds: string[]): NewAccessLogEntry {
  return {
    operationId: null,
    actor,
    apiKeyId: null,
    grantId: null,
    operation: 'download',
    fileIds,
    outcome: 'read',
    code: null,
    blockNumber: null,
    receiptHash: null,
  };
}

describe('AccessLogRepository (real Postgres)', () => {
  let db: RepositoryTesting;
  let log: AccessLogRepository;
  let a: SeededServer;
  let b: SeededServer;

  before(async () => {
    db = await repositoryTesting([AccessLogRepository]);
    log = db.get(AccessLogRepository);
  });
  after(() => db.close());
  beforeEach(async () => {
    a = await seedServer(db.dataSource, { kind: 'collective' });
    b = await seedServer(db.dataSource, { kind: 'collective' });
  });

  describe('append', () => {
    it('appends a row with a new log id and the time', async () => {
      const actor = randomAddress();
      const row = await log.append(a.server.id, read(actor, ['fil_x']));
      assert.match(row.id, /^log_[0-9a-f]{32}$/);
      const [listed] = await log.list(a.server.id, { limit: 10 });
      assert.equal(listed.id, row.id);
      assert.equal(listed.serverId, a.server.id);
      assert.equal(listed.actor, actor);
      assert.deepEqual(listed.fileIds, ['fil_x']);
      assert.equal(listed.outcome, 'read');
      assert.ok(listed.createdAt instanceof Date);
      assert.equal(listed.receipt, null);
    });

    it("cross-tenant: appending for B writes nothing of A's", async () => {
      const before = await tenantSnapshot(db.dataSource, a.server.id);
      await log.append(b.server.id, read(randomAddress(), []));
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before);
      assert.equal((await log.list(b.server.id, { limit: 10 })).length, 1);
    });
  });

  describe('appendDownloads', () => {
    it("writes many servers' download rows in one statement, each under its own server", async () => {
      const actor = randomAddress().toUpperCase().replace('0X', '0x');
      await log.appendDownloads([
        { serverId: a.server.id, fileId: 'fil_a1', actor },
        { serverId: b.server.id, fileId: 'fil_b1', actor },
        { serverId: a.server.id, fileId: 'fil_a2', actor },
      ]);
      const ofA = await log.list(a.server.id, { limit: 10 });
      assert.deepEqual(ofA.map((r) => r.fileIds[0]).sort(), ['fil_a1', 'fil_a2']);
      for (const row of ofA) {
        assert.match(row.id, /^log_[0-9a-f]{32}$/);
        assert.equal(row.operation, 'download');
        assert.equal(row.outcome, 'read');
        assert.equal(row.actor, actor.toLowerCase());
        assert.equal(row.operationId, null);
      }
      assert.deepEqual(
        (await log.list(b.server.id, { limit: 10 })).map((r) => r.fileIds),
        [['fil_b1']],
      );
    });

    it('writes nothing when one row cannot be stored (an unknown server)', async () => {
      await assert.rejects(
        log.appendDownloads([
          { serverId: a.server.id, fileId: 'fil_ok', actor: randomAddress() },
          { serverId: 'srv_gone', fileId: 'fil_x', actor: randomAddress() },
        ]),
      );
      assert.equal((await log.list(a.server.id, { limit: 10 })).length, 0);
    });
  });

  describe('list', () => {
    it('lists newest first with limit + 1 rows, after a cursor, with the receipt of the operation', async () => {
      const key = await seedApiKey(db.dataSource, a.server.id);
      const op = await seedOperation(db.dataSource, a.server.id, key.id, {
        status: 'succeeded',
        receipt: { signed: 'yes' },
      });
      const r1 = await seedAccessLog(db.dataSource, a.server.id);
      const r2 = await seedAccessLog(db.dataSource, a.server.id, {
        operationId: op.id,
        outcome: 'succeeded',
      });
      const r3 = await seedAccessLog(db.dataSource, a.server.id);
      const first = await log.list(a.server.id, { limit: 2 });
      assert.deepEqual(
        first.map((r) => r.id),
        [r3.id, r2.id, r1.id],
      );
      assert.deepEqual(first[1].receipt, { signed: 'yes' });
      assert.deepEqual(
        (await log.list(a.server.id, { limit: 2, cursor: r2.id })).map((r) => r.id),
        [r1.id],
      );
    });

    it('narrows to a member: rows touching their contributions and their own reads', async () => {
      const member = randomAddress();
      const theirs = await seedFile(db.dataSource, a.server.id, { contributorAddress: member });
      const others = await seedFile(db.dataSource, a.server.id);
      const touching = await seedAccessLog(db.dataSource, a.server.id, { fileIds: [others.id, theirs.id] });
      await seedAccessLog(db.dataSource, a.server.id, { fileIds: [others.id] });
      const ownRead = await seedAccessLog(db.dataSource, a.server.id, {
        actor: member,
        fileIds: [others.id],
      });
      assert.deepEqual(
        (await log.list(a.server.id, { limit: 10 }, member)).map((r) => r.id),
        [ownRead.id, touching.id],
      );
    });

    it('filters by outcome: denied rows, or every other one', async () => {
      const denied = await seedAccessLog(db.dataSource, a.server.id, { outcome: 'denied' });
      const read = await seedAccessLog(db.dataSource, a.server.id);
      const ran = await seedAccessLog(db.dataSource, a.server.id, { outcome: 'succeeded' });
      const failed = await seedAccessLog(db.dataSource, a.server.id, { outcome: 'failed' });
      const ids = async (outcome: 'denied' | 'allowed') =>
        (await log.list(a.server.id, { limit: 10, outcome })).map((r) => r.id);
      assert.deepEqual(await ids('denied'), [denied.id]);
      assert.deepEqual(await ids('allowed'), [failed.id, ran.id, read.id]);
    });

    it("cross-tenant: B's denied rows are not A's", async () => {
      const deniedA = await seedAccessLog(db.dataSource, a.server.id, { outcome: 'denied' });
      const deniedB = await seedAccessLog(db.dataSource, b.server.id, { outcome: 'denied' });
      assert.deepEqual(
        (await log.list(b.server.id, { limit: 10, outcome: 'denied' })).map((r) => r.id),
        [deniedB.id],
      );
      assert.deepEqual(
        (await log.list(a.server.id, { limit: 10, outcome: 'denied' })).map((r) => r.id),
        [deniedA.id],
      );
    });

    it("cross-tenant: B's list holds none of A's rows, by member filter or by operation receipt", async () => {
      const member = randomAddress();
      const fileA = await seedFile(db.dataSource, a.server.id, { contributorAddress: member });
      await seedAccessLog(db.dataSource, a.server.id, { actor: member, fileIds: [fileA.id] });
      const keyA = await seedApiKey(db.dataSource, a.server.id);
      const opA = await seedOperation(db.dataSource, a.server.id, keyA.id, {
        status: 'succeeded',
        receipt: { of: 'A' },
      });
      // A row of B naming A's operation and A's file: B's receipt join and member filter stay inside B.
      const rowB = await seedAccessLog(db.dataSource, b.server.id, {
        operationId: opA.id,
        fileIds: [fileA.id],
      });
      const listed = await log.list(b.server.id, { limit: 10 });
      assert.deepEqual(
        listed.map((r) => r.id),
        [rowB.id],
      );
      assert.equal(listed[0].receipt, null);
      assert.deepEqual(await log.list(b.server.id, { limit: 10 }, member), []);
    });
  });
});
