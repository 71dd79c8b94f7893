import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getAddress } from 'viem';
import {
  mediumGateway,
  type MediumGateway,
  randomAddress,
  seedAccessLog,
  seedFile,
  seedOperation,
  seedUsage,
  type Tenant,
  problem,
} from '../../../../test/support/medium';
import { AccessLogModule } from './access-log.module';
import { AccessLogService } from './access-log.service';

describe('AccessLogService (real Postgres)', () => {
  let gw: MediumGateway;
  let service: AccessLogService;
  let a: Tenant;
  let b: Tenant;

  before(async () => {
    gw = await mediumGateway({ imports: [AccessLogModule] });
    service = gw.get(AccessLogService);
    [a, b] = await Promise.all([gw.tenant(), gw.tenant()]);
  });
  after(() => gw.close());

  it('lists every decryption and denial newest first, with receipts and checksummed actors, page by page', async () => {
    const key = await gw.apiKey(a.server);
    const op = await seedOperation(gw.dataSource, a.server.id, key.id, {
      status: 'succeeded',
      receipt: { r: 1 },
    });
    const actor = randomAddress();
    const older = await seedAccessLog(gw.dataSource, a.server.id, { actor });
    const newer = await seedAccessLog(gw.dataSource, a.server.id, {
      operationId: op.id,
      outcome: 'succeeded',
    });
    const first = await service.list(a.server.id, { limit: 1 });
    assert.deepEqual(
      first.items.map((r) => [r.id, r.operationId, r.outcome, r.receipt]),
      [[newer.id, op.id, 'succeeded', { r: 1 }]],
    );
    assert.equal(first.nextCursor, newer.id);
    const second = await service.list(a.server.id, { limit: 1, cursor: first.nextCursor });
    assert.deepEqual(
      second.items.map((r) => [r.id, r.actor, r.receipt]),
      [[older.id, getAddress(actor), null]],
    );
    assert.equal(second.nextCursor, null);
  });

  it('shows a collective member the rows touching their contributions and their own reads only', async () => {
    const collective = await gw.collective(a);
    const alice = await gw.member(collective);
    const hers = await seedFile(gw.dataSource, collective.id, { contributorAddress: alice.account.address });
    const other = await seedFile(gw.dataSource, collective.id);
    const touching = await seedAccessLog(gw.dataSource, collective.id, { fileIds: [hers.id, other.id] });
    await seedAccessLog(gw.dataSource, collective.id, { fileIds: [other.id] });
    const ownRead = await seedAccessLog(gw.dataSource, collective.id, { actor: alice.account.address });
    const view = await service.list(collective.id, { limit: 10 }, alice.account.address.toLowerCase());
    assert.deepEqual(
      view.items.map((r) => r.id),
      [ownRead.id, touching.id],
    );
    assert.equal((await service.list(collective.id, { limit: 10 })).items.length, 3);
  });

  it('sums usage per key and day over a range, pages by day and key, and refuses bad ranges', async () => {
    const [k1, k2] = await Promise.all([gw.apiKey(a.server), gw.apiKey(a.server)]);
    await seedUsage(gw.dataSource, a.server.id, k1.id, '2025-05-01', {
      operations: 1,
      computeMs: 5,
      inputBytes: 10,
    });
    await seedUsage(gw.dataSource, a.server.id, k2.id, '2025-05-01', {
      operations: 2,
      computeMs: 6,
      inputBytes: 20,
    });
    await seedUsage(gw.dataSource, a.server.id, k1.id, '2025-05-03', {
      operations: 3,
      computeMs: 7,
      inputBytes: 30,
    });
    const first = await service.usage(a.server.id, { from: '2025-05-01', to: '2025-05-31', limit: 2 });
    assert.deepEqual(first.totals, { operations: 6, computeMs: 18, inputBytes: 60 });
    assert.equal(first.items.length, 2);
    assert.equal(first.items[0].day, '2025-05-03');
    assert.ok(first.nextCursor);
    const rest = await service.usage(a.server.id, {
      from: '2025-05-01',
      to: '2025-05-31',
      limit: 2,
      cursor: first.nextCursor,
    });
    assert.equal(rest.items.length, 1);
    assert.equal(rest.nextCursor, null);
    const seen = [...first.items, ...rest.items].map((r) => `${r.day}|${r.apiKeyId}`).sort();
    assert.deepEqual(seen, [`2025-05-01|${k1.id}`, `2025-05-01|${k2.id}`, `2025-05-03|${k1.id}`].sort());
    assert.equal(
      (await problem(service.usage(a.server.id, { from: '2025-06-01', to: '2025-05-01', limit: 5 }))).status,
      400,
    );
    assert.equal(
      (await problem(service.usage(a.server.id, { from: '2020-01-01', to: '2025-05-01', limit: 5 }))).status,
      400,
    );
    assert.equal((await problem(service.usage(a.server.id, { limit: 5, cursor: 'garbage' }))).status, 400);
  });

  it("cross-tenant: B's access log and usage hold nothing of A's", async () => {
    const keyA = await gw.apiKey(a.server);
    await seedAccessLog(gw.dataSource, a.server.id, { actor: b.account.address });
    await seedUsage(gw.dataSource, a.server.id, keyA.id, '2025-07-01', {
      operations: 9,
      computeMs: 9,
      inputBytes: 9,
    });
    assert.deepEqual(await service.list(b.server.id, { limit: 50 }), { items: [], nextCursor: null });
    assert.deepEqual(await service.list(b.server.id, { limit: 50 }, b.account.address.toLowerCase()), {
      items: [],
      nextCursor: null,
    });
    const usage = await service.usage(b.server.id, { from: '2025-07-01', to: '2025-07-31', limit: 50 });
    assert.deepEqual([usage.items, usage.totals], [[], { operations: 0, computeMs: 0, inputBytes: 0 }]);
  });
});
