import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  type RepositoryTesting,
  repositoryTesting,
  seedApiKey,
  type SeededServer,
  seedServer,
  seedUsage,
} from '../testing';
import { UsageRepository } from './usage.repository';

describe('UsageRepository (real Postgres)', () => {
  let db: RepositoryTesting;
  let usage: UsageRepository;
  let a: SeededServer;
  let b: SeededServer;
  let keyA1: string;
  let keyA2: string;
  let keyB: string;
  const range = { from: '2025-03-01', to: '2025-03-31' };

  before(async () => {
    db = await repositoryTesting([UsageRepository]);
    usage = db.get(UsageRepository);
  });
  after(() => db.close());
  beforeEach(async () => {
    a = await seedServer(db.dataSource);
    b = await seedServer(db.dataSource);
    [keyA1, keyA2] = [
      (await seedApiKey(db.dataSource, a.server.id)).id,
      (await seedApiKey(db.dataSource, a.server.id)).id,
    ];
    keyB = (await seedApiKey(db.dataSource, b.server.id)).id;
    await seedUsage(db.dataSource, a.server.id, keyA1, '2025-03-02', {
      operations: 1,
      computeMs: 10,
      inputBytes: 100,
    });
    await seedUsage(db.dataSource, a.server.id, keyA2, '2025-03-02', {
      operations: 2,
      computeMs: 20,
      inputBytes: 200,
    });
    await seedUsage(db.dataSource, a.server.id, keyA1, '2025-03-05', {
      operations: 4,
      computeMs: 40,
      inputBytes: 400,
    });
    await seedUsage(db.dataSource, a.server.id, keyA1, '2025-04-01', {
      operations: 8,
      computeMs: 80,
      inputBytes: 800,
    });
  });

  describe('daily', () => {
    it('lists the days of the range newest first, by key within a day, limit + 1 rows, after a cursor', async () => {
      const [hi, lo] = [keyA1, keyA2].sort().reverse();
      const first = await usage.daily(a.server.id, range, { limit: 1 });
      assert.deepEqual(first, [
        { day: '2025-03-05', apiKeyId: keyA1, operations: 4, computeMs: 40, inputBytes: 400 },
        {
          day: '2025-03-02',
          apiKeyId: hi,
          operations: hi === keyA1 ? 1 : 2,
          computeMs: hi === keyA1 ? 10 : 20,
          inputBytes: hi === keyA1 ? 100 : 200,
        },
      ]);
      const rest = await usage.daily(a.server.id, range, {
        limit: 5,
        after: { day: '2025-03-02', apiKeyId: hi },
      });
      assert.deepEqual(
        rest.map((r) => [r.day, r.apiKeyId]),
        [['2025-03-02', lo]],
      );
    });

    it("cross-tenant: B's days hold none of A's counters", async () => {
      assert.deepEqual(await usage.daily(b.server.id, range, { limit: 10 }), []);
      await seedUsage(db.dataSource, b.server.id, keyB, '2025-03-02', {
        operations: 16,
        computeMs: 1,
        inputBytes: 1,
      });
      assert.deepEqual(await usage.daily(b.server.id, range, { limit: 10 }), [
        { day: '2025-03-02', apiKeyId: keyB, operations: 16, computeMs: 1, inputBytes: 1 },
      ]);
    });
  });

  describe('totals', () => {
    it('sums the range over every key', async () => {
      assert.deepEqual(await usage.totals(a.server.id, range), {
        operations: 7,
        computeMs: 70,
        inputBytes: 700,
      });
      assert.deepEqual(await usage.totals(a.server.id, { from: '2024-01-01', to: '2024-01-31' }), {
        operations: 0,
        computeMs: 0,
        inputBytes: 0,
      });
    });

    it("cross-tenant: B's totals count none of A's", async () => {
      assert.deepEqual(await usage.totals(b.server.id, range), {
        operations: 0,
        computeMs: 0,
        inputBytes: 0,
      });
    });
  });
});
