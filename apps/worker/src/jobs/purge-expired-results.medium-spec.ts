import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OperationRepository } from '@hearth/db';
import {
  type RepositoryTesting,
  repositoryTesting,
  seedApiKey,
  seedOperation,
  seedServer,
} from '../../../../libs/db/src/testing';
import { PurgeExpiredResultsHandler } from './purge-expired-results.handler';

describe('PurgeExpiredResultsHandler (real Postgres)', () => {
  let db: RepositoryTesting;

  before(async () => {
    db = await repositoryTesting([OperationRepository]);
  });
  after(() => db.close());

  it('drops expired results of every server and keeps the ones still in time', async () => {
    const handler = new PurgeExpiredResultsHandler(db.get(OperationRepository));
    const ops = db.get(OperationRepository);
    const [a, b] = [await seedServer(db.dataSource), await seedServer(db.dataSource)];
    const [keyA, keyB] = [
      await seedApiKey(db.dataSource, a.server.id),
      await seedApiKey(db.dataSource, b.server.id),
    ];
    const result = { status: 'succeeded' as const, resultCiphertext: Buffer.from('sealed') };
    const expiredA = await seedOperation(db.dataSource, a.server.id, keyA.id, {
      ...result,
      resultExpiresAt: new Date(Date.now() - 1000),
    });
    const expiredB = await seedOperation(db.dataSource, b.server.id, keyB.id, {
      ...result,
      resultExpiresAt: new Date(Date.now() - 1000),
    });
    const live = await seedOperation(db.dataSource, a.server.id, keyA.id, {
      ...result,
      resultExpiresAt: new Date(Date.now() + 3600_000),
    });
    const { purged } = await handler.handle();
    assert.ok(purged >= 2, `purged ${purged}`);
    assert.equal((await ops.findById(a.server.id, expiredA.id))?.resultCiphertext, null);
    assert.equal((await ops.findById(b.server.id, expiredB.id))?.resultCiphertext, null);
    assert.equal((await ops.findById(a.server.id, live.id))?.resultCiphertext?.toString(), 'sealed');
  });
});
