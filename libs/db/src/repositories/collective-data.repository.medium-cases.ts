import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiKeyEntity } from '../entities/api-key.entity';
import {
  type RepositoryTesting,
  repositoryTesting,
  seedApiKey,
  type SeededServer,
  seedFile,
  seedOperation,
  seedServer,
  tenantSnapshot,
} from '../testing';
import { CollectiveDataRepository } from './collective-data.repository';
import { MemberRepository } from './member.repository';
import { OperationRepository, type OperationOutcome } from './operation.repository';

const APP = '0x' + 'a'.repeat(40);

const succeeded: OperationOutcome = {
  status: 'succeeded',
  errorCode: null,
  errorDetail: null,
  resultCiphertext: Buffer.from('sealed'),
  resultWrappedKey: Buffer.from('wrapped'),
  resultExpiresAt: new Date(Date.now() + 3600_000),
  receipt: { ok: true },
  receiptHash: '0xabc',
  blockNumber: '12',
  timings: {},
  computeMs: 5,
  inputBytes: 10,
  decrypted: true,
};

describe('CollectiveDataRepository and finishCollective (real Postgres)', () => {
  let db: RepositoryTesting;
  let data: CollectiveDataRepository;
  let ops: OperationRepository;
  let members: MemberRepository;
  let a: SeededServer;
  let b: SeededServer;
  let keyA: ApiKeyEntity;

  before(async () => {
    db = await repositoryTesting([CollectiveDataRepository, OperationRepository, MemberRepository]);
    data = db.get(CollectiveDataRepository);
    ops = db.get(OperationRepository);
    members = db.get(MemberRepository);
  });
  after(() => db.close());
  beforeEach(async () => {
    a = await seedServer(db.dataSource, { kind: 'collective' });
    b = await seedServer(db.dataSource, { kind: 'collective' });
    keyA = await seedApiKey(db.dataSource, a.server.id);
  });

  it('publishes immutable, versioned datasets of the ready contributions; runs resolve to them', async () => {
    const f1 = await seedFile(db.dataSource, a.server.id, { contributorAddress: '0x' + '1'.repeat(40) });
    const f2 = await seedFile(db.dataSource, a.server.id, { contributorAddress: '0x' + '2'.repeat(40) });
    await seedFile(db.dataSource, a.server.id, { status: 'uploading' });
    await seedFile(db.dataSource, b.server.id);
    const v1 = await data.publishDataset(a.server.id, '0x' + 'C'.repeat(40));
    assert.deepEqual([v1.version, [...v1.fileIds].sort(), v1.contributors], [1, [f1.id, f2.id].sort(), 2]);
    const f3 = await seedFile(db.dataSource, a.server.id, { contributorAddress: '0x' + '3'.repeat(40) });
    const [v2, v3] = await Promise.all([
      data.publishDataset(a.server.id, '0x' + 'c'.repeat(40)),
      data.publishDataset(a.server.id, '0x' + 'c'.repeat(40)),
    ]);
    assert.deepEqual([v2.version, v3.version].sort(), [2, 3], 'concurrent publishers take distinct versions');
    assert.deepEqual(await data.runFileIds(a.server.id, v1.id), [f1.id, f2.id].sort(), 'v1 did not grow');
    assert.deepEqual(await data.runFileIds(a.server.id, null), [f1.id, f2.id, f3.id].sort());
    const listed = await data.listDatasets(a.server.id, { limit: 2 });
    assert.deepEqual(
      listed.map((d) => d.version),
      [3, 2, 1],
      'newest first (limit + 1 rows)',
    );
    const rest = await data.listDatasets(a.server.id, { limit: 2, cursor: listed[1].id });
    assert.deepEqual(
      rest.map((d) => d.version),
      [1],
    );
    // A removed contribution retires every dataset that froze it (a run would differ by that member alone).
    await db.dataSource.query(`DELETE FROM files WHERE id = $1`, [f1.id]);
    assert.equal(await data.runFileIds(a.server.id, v1.id), 'retired');
    assert.deepEqual(await data.runFileIds(a.server.id, null), [f2.id, f3.id].sort());
    // Cross-tenant: B's id never resolves A's dataset.
    assert.equal(await data.runFileIds(b.server.id, v1.id), null);
    assert.equal(await data.findDataset(b.server.id, v1.id), null);
  });

  it('per-member contribution totals: counts and bytes, never which files', async () => {
    const m = '0x' + '4'.repeat(40);
    await seedFile(db.dataSource, a.server.id, { contributorAddress: m });
    await seedFile(db.dataSource, a.server.id, { contributorAddress: m });
    const totals = await members.contributionTotals(a.server.id, [m.toUpperCase().replace('0X', '0x')]);
    assert.equal(totals.get(m)?.files, 2);
    assert.match(totals.get(m)!.bytes, /^[0-9]+$/);
    assert.equal((await members.contributionTotals(b.server.id, [m])).size, 0);
  });

  it('spends ε with the outcome, in one transaction; past the budget it writes nothing', async () => {
    const privacy = { appAddress: APP, epsilon: '1', budget: '2.5' };
    const finishOne = async () => {
      const op = await seedOperation(db.dataSource, a.server.id, keyA.id, { status: 'running' });
      return {
        op,
        done: await ops.finishCollective(a.server.id, op, succeeded, { fileIds: ['fil_x'], privacy }),
      };
    };
    const results = await Promise.all([finishOne(), finishOne(), finishOne()]);
    assert.deepEqual(results.map((r) => r.done).sort(), ['exhausted', 'finished', 'finished']);
    const exhausted = results.find((r) => r.done === 'exhausted')!;
    assert.equal(
      (await ops.findById(a.server.id, exhausted.op.id))?.status,
      'running',
      'nothing of it written',
    );
    const finished = results.find((r) => r.done === 'finished')!;
    const row = await ops.findById(a.server.id, finished.op.id);
    assert.deepEqual([row?.status, row?.fileIds], ['succeeded', ['fil_x']], 'the resolved set is recorded');
    const snapshot = await tenantSnapshot(db.dataSource, a.server.id);
    assert.deepEqual(
      (snapshot.privacy_budgets as Array<{ spent: string }>).map((r) => Number(r.spent)),
      [2],
    );
    assert.equal(snapshot.access_log.length, 2);
    assert.equal(await data.canSpend(a.server.id, APP, '1', '2.5'), false);
    assert.equal(await data.canSpend(a.server.id, APP, '0.5', '2.5'), true);
    // Finishing again (a retried job) spends nothing more.
    assert.equal(
      await ops.finishCollective(a.server.id, finished.op, succeeded, { fileIds: [], privacy }),
      'not-running',
    );
    const after = await tenantSnapshot(db.dataSource, a.server.id);
    assert.deepEqual(after.privacy_budgets, snapshot.privacy_budgets);
    // Another tenant's budget is its own.
    assert.equal(await data.canSpend(b.server.id, APP, '1', '2.5'), true);
  });
});
