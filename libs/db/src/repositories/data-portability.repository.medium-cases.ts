import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { newId } from '@hearth/ids';
import {
  randomAddress,
  type RepositoryTesting,
  repositoryTesting,
  type SeededServer,
  seedServer,
  tenantSnapshot,
} from '../testing';
import { AccessLogRepository } from './access-log.repository';
import { DataPortabilityRepository } from './data-portability.repository';
import { FileRepository } from './file.repository';

describe('DataPortabilityRepository (real Postgres)', () => {
  let db: RepositoryTesting;
  let dp: DataPortabilityRepository;
  let log: AccessLogRepository;
  let a: SeededServer;
  let b: SeededServer;

  before(async () => {
    db = await repositoryTesting([DataPortabilityRepository, FileRepository, AccessLogRepository]);
    dp = db.get(DataPortabilityRepository);
    log = db.get(AccessLogRepository);
  });
  after(() => db.close());
  beforeEach(async () => {
    a = await seedServer(db.dataSource);
    b = await seedServer(db.dataSource);
  });

  async function version(
    serverId: string,
    scopeDigest: string,
    collectedAt: string,
    bytes = randomBytes(40),
  ) {
    return dp.uploadDocument(
      serverId,
      {
        id: newId('fil'),
        sealedName: randomBytes(30),
        sealedContentType: randomBytes(30),
        encryption: 'server',
        wrappedDataKey: randomBytes(40),
        kmsKeyRef: null,
        contributorAddress: randomAddress(),
      },
      { scopeDigest, sealedScope: randomBytes(30), collectedAt: new Date(collectedAt) },
      async (chunks) => {
        await chunks.put(bytes);
        return { size: bytes.length, ciphertextSha256: 'ab'.repeat(32) };
      },
    );
  }

  it('reads the latest version, one collected at or before a time, or one file, with its chunks', async () => {
    const first = await version(a.server.id, 'd1', '2026-01-21T10:00:00Z');
    const second = await version(a.server.id, 'd1', '2026-01-22T10:00:00Z');
    await version(a.server.id, 'd2', '2026-01-23T10:00:00Z');
    const latest = await dp.read(a.server.id, 'd1');
    assert.equal(latest.document?.fileId, second.id);
    assert.equal(latest.file?.id, second.id);
    assert.equal(latest.chunks?.length, 1);
    assert.equal(latest.readable, false);
    const at = await dp.read(a.server.id, 'd1', { at: new Date('2026-01-21T23:00:00Z') });
    assert.equal(at.document?.fileId, first.id);
    const before = await dp.read(a.server.id, 'd1', { at: new Date('2026-01-01T00:00:00Z') });
    assert.equal(before.document, null);
    const byFile = await dp.read(a.server.id, 'd1', { fileId: first.id });
    assert.equal(byFile.file?.id, first.id);
    // A file of another scope is not a version of this one.
    const other = await dp.read(a.server.id, 'd2', { fileId: first.id });
    assert.equal(other.document, null);
  });

  it('lists scopes with their latest version and count, and pages versions', async () => {
    await version(a.server.id, 'd1', '2026-01-21T10:00:00Z');
    const newest = await version(a.server.id, 'd1', '2026-01-22T10:00:00Z');
    await version(a.server.id, 'd2', '2026-01-23T10:00:00Z');
    const scopes = await dp.scopes(a.server.id);
    assert.deepEqual(
      scopes.map((s) => [s.scopeDigest, s.versions]),
      [
        ['d1', 2],
        ['d2', 1],
      ],
    );
    assert.equal(scopes[0].latest.fileId, newest.id);
    const page = await dp.versions(a.server.id, 'd1', { limit: 1, offset: 1 });
    assert.equal(page.total, 2);
    assert.equal(page.items.length, 1);
    const past = await dp.versions(a.server.id, 'd1', { limit: 1, offset: 5 });
    assert.deepEqual([past.items.length, past.total], [0, 2]);
  });

  it('keeps the readable setting per scope, revocable', async () => {
    assert.equal((await dp.setReadable(a.server.id, 'd1', randomBytes(20), true)).readable, true);
    await version(a.server.id, 'd1', '2026-01-21T10:00:00Z');
    assert.equal((await dp.read(a.server.id, 'd1')).readable, true);
    await dp.setReadable(a.server.id, 'd1', randomBytes(20), false);
    assert.equal((await dp.read(a.server.id, 'd1')).readable, false);
    assert.deepEqual(
      (await dp.scopeSettings(a.server.id)).map((s) => [s.scopeDigest, s.readable]),
      [['d1', false]],
    );
  });

  it('deletes a scope: its files, documents and setting', async () => {
    const v = await version(a.server.id, 'd1', '2026-01-21T10:00:00Z');
    await version(a.server.id, 'd1', '2026-01-22T10:00:00Z');
    await dp.setReadable(a.server.id, 'd1', randomBytes(20), true);
    assert.equal(await dp.deleteScope(a.server.id, 'd1'), 2);
    assert.equal((await dp.read(a.server.id, 'd1')).document, null);
    assert.equal((await dp.read(a.server.id, 'd1')).readable, false);
    assert.equal(await db.get(FileRepository).findReady(a.server.id, v.id), null);
    assert.equal(await dp.deleteScope(a.server.id, 'd1'), 0);
  });

  it('appends an access-log row with its receipt in one statement, listed by both logs', async () => {
    const actor = randomAddress();
    const logId = newId('log');
    const row = await dp.appendAccess(
      a.server.id,
      {
        operationId: null,
        actor,
        apiKeyId: null,
        grantId: '7',
        operation: 'dp.read',
        fileIds: [],
        outcome: 'denied',
        code: 'dp_scope_not_readable',
        blockNumber: '12',
        receiptHash: '0xabc',
      },
      { id: logId, sealedScope: Buffer.from('sealed'), receipt: { logId } },
    );
    const listed = await dp.accessLog(a.server.id, { limit: 10, offset: 0 });
    assert.equal(listed.total, 1);
    assert.equal(listed.items[0].id, row.id);
    assert.equal(row.id, logId);
    assert.deepEqual(listed.items[0].receipt, { logId });
    assert.deepEqual(listed.items[0].sealedScope, Buffer.from('sealed'));
    const [hearth] = await log.list(a.server.id, { limit: 10 });
    assert.equal(hearth.id, row.id);
    assert.deepEqual(hearth.receipt, { logId });
  });

  it('never reads or changes another tenant', async () => {
    const v = await version(a.server.id, 'd1', '2026-01-21T10:00:00Z');
    await dp.setReadable(a.server.id, 'd1', randomBytes(20), true);
    await dp.appendAccess(
      a.server.id,
      {
        operationId: null,
        actor: randomAddress(),
        apiKeyId: null,
        grantId: null,
        operation: 'dp.read',
        fileIds: [v.id],
        outcome: 'read',
        code: null,
        blockNumber: null,
        receiptHash: null,
      },
      { id: newId('log'), sealedScope: null, receipt: {} },
    );
    const snapshot = await tenantSnapshot(db.dataSource, a.server.id);
    const read = await dp.read(b.server.id, 'd1', { fileId: v.id });
    assert.deepEqual([read.readable, read.document, read.file], [false, null, null]);
    assert.deepEqual(await dp.scopes(b.server.id), []);
    assert.equal((await dp.versions(b.server.id, 'd1', { limit: 10, offset: 0 })).total, 0);
    assert.deepEqual(await dp.scopeSettings(b.server.id), []);
    assert.equal((await dp.accessLog(b.server.id, { limit: 10, offset: 0 })).total, 0);
    assert.equal(await dp.deleteScope(b.server.id, 'd1'), 0);
    await dp.setReadable(b.server.id, 'd1', randomBytes(20), false);
    assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), snapshot);
  });
});
