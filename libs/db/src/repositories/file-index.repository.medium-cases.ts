import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FileEntity } from '../entities/file.entity';
import {
  type RepositoryTesting,
  repositoryTesting,
  type SeededServer,
  seedFile,
  seedServer,
} from '../testing';
import { FileIndexRepository } from './file-index.repository';
import { FileRepository } from './file.repository';

describe('FileIndexRepository (real Postgres)', () => {
  let db: RepositoryTesting;
  let indexes: FileIndexRepository;
  let files: FileRepository;
  let a: SeededServer;
  let b: SeededServer;
  let file: FileEntity;
  const sealed = randomBytes(64);
  const outcome = (sha: string) => ({
    ciphertextSha256: sha,
    formatVersion: 1,
    sealedIndex: sealed,
    records: 12,
    errorCode: null,
  });

  before(async () => {
    db = await repositoryTesting([FileIndexRepository, FileRepository]);
    indexes = db.get(FileIndexRepository);
    files = db.get(FileRepository);
  });
  after(() => db.close());
  beforeEach(async () => {
    a = await seedServer(db.dataSource);
    b = await seedServer(db.dataSource);
    file = await seedFile(db.dataSource, a.server.id);
  });

  it('loads a ready file for indexing with its keys, and says whether this version is indexed', async () => {
    const before = await indexes.loadForIndexing(a.server.id, file.id);
    assert.equal(before?.fileId, file.id);
    assert.equal(before?.kmsKeyRef, a.server.kmsKeyRef);
    assert.equal(before?.indexed, false);
    assert.equal(await indexes.save(a.server.id, file.id, outcome(file.ciphertextSha256!)), true);
    assert.equal((await indexes.loadForIndexing(a.server.id, file.id))?.indexed, true);
  });

  it('another tenant neither loads, saves nor reads the file index', async () => {
    assert.equal(await indexes.loadForIndexing(b.server.id, file.id), null);
    assert.equal(await indexes.save(b.server.id, file.id, outcome(file.ciphertextSha256!)), false);
    await indexes.save(a.server.id, file.id, outcome(file.ciphertextSha256!));
    assert.equal((await indexes.readyFor(b.server.id, [file.id])).size, 0);
    assert.equal(await indexes.status(b.server.id, file.id), null);
  });

  it('serves only an index of the current file version, and refuses one for another version', async () => {
    assert.equal(await indexes.save(a.server.id, file.id, outcome('0'.repeat(64))), false);
    await indexes.save(a.server.id, file.id, outcome(file.ciphertextSha256!));
    const ready = await indexes.readyFor(a.server.id, [file.id]);
    assert.deepEqual(ready.get(file.id)?.sealedIndex, sealed);
    assert.deepEqual(await indexes.status(a.server.id, file.id), {
      status: 'ready',
      records: 12,
      errorCode: null,
    });
  });

  it('does not send again a version the caller holds, and sends a rebuilt one in full', async () => {
    await indexes.save(a.server.id, file.id, outcome(file.ciphertextSha256!));
    const first = (await indexes.readyFor(a.server.id, [file.id])).get(file.id)!;
    assert.deepEqual(first.sealedIndex, sealed);
    const confirmed = (await indexes.readyFor(a.server.id, [file.id], [first.version])).get(file.id)!;
    assert.deepEqual([confirmed.version, confirmed.sealedIndex], [first.version, null]);
    // Another tenant naming the version learns nothing: the row is not theirs.
    assert.equal((await indexes.readyFor(b.server.id, [file.id], [first.version])).size, 0);
    await new Promise((r) => setTimeout(r, 5));
    await indexes.save(a.server.id, file.id, outcome(file.ciphertextSha256!));
    const rebuilt = (await indexes.readyFor(a.server.id, [file.id], [first.version])).get(file.id)!;
    assert.notEqual(rebuilt.version, first.version);
    assert.deepEqual(rebuilt.sealedIndex, sealed);
  });

  it('records a failed build without a sealed index, and serves none', async () => {
    await indexes.save(a.server.id, file.id, {
      ...outcome(file.ciphertextSha256!),
      sealedIndex: null,
      records: 0,
      errorCode: 'x',
    });
    assert.equal((await indexes.readyFor(a.server.id, [file.id])).size, 0);
    assert.equal((await indexes.status(a.server.id, file.id))?.status, 'failed');
  });

  it('goes with its file', async () => {
    await indexes.save(a.server.id, file.id, outcome(file.ciphertextSha256!));
    assert.equal(await files.delete(a.server.id, file.id), true);
    const left: unknown[] = await db.dataSource.query('SELECT 1 FROM file_indexes WHERE file_id = $1', [
      file.id,
    ]);
    assert.equal(left.length, 0);
  });

  it('a file still uploading is not indexed', async () => {
    const uploading = await seedFile(db.dataSource, a.server.id, { status: 'uploading' });
    assert.equal(await indexes.loadForIndexing(a.server.id, uploading.id), null);
  });
});
