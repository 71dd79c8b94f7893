import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '@hearth/ids';
import { createHash, randomBytes } from 'node:crypto';
import { FileEntity } from '../entities/file.entity';
import {
  randomAddress,
  type RepositoryTesting,
  repositoryTesting,
  type SeededServer,
  seedFile,
  seedServer,
  tenantSnapshot,
} from '../testing';
import { FileRepository, type NewFile, READ_INLINE_CHUNKS } from './file.repository';

function newFile(contributor: string): NewFile {
  return {
    id: newId('fil'),
    sealedName: randomBytes(37),
    sealedContentType: randomBytes(38),
    encryption: 'server',
    wrappedDataKey: randomBytes(40),
    kmsKeyRef: null,
    contributorAddress: contributor,
  };
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

describe('FileRepository (real Postgres)', () => {
  let db: RepositoryTesting;
  let files: FileRepository;
  let a: SeededServer;
  let b: SeededServer;

  before(async () => {
    db = await repositoryTesting([FileRepository]);
    files = db.get(FileRepository);
  });
  after(() => db.close());
  beforeEach(async () => {
    a = await seedServer(db.dataSource);
    b = await seedServer(db.dataSource);
  });

  const chunkRows = (fileId: string) =>
    db.dataSource.query<Array<{ seq: number; server_id: string; data: Buffer }>>(
      'SELECT seq, server_id, data FROM file_chunks WHERE file_id = $1 ORDER BY seq',
      [fileId],
    );

  describe('upload', () => {
    it('stores the row and every chunk in order, then marks the file ready with its size, count and hash', async () => {
      const chunks = [randomBytes(10), randomBytes(20), randomBytes(5)];
      const file = newFile(a.account.address);
      const hash = createHash('sha256');
      const stored = await files.upload(a.server.id, file, async (writer) => {
        // Inside the transaction the file is still uploading: no reader sees it.
        for (const c of chunks) {
          hash.update(c);
          await writer.put(c);
        }
        assert.equal(await files.findReady(a.server.id, file.id), null);
        return { size: 35, ciphertextSha256: hash.digest('hex') };
      });
      assert.equal(stored.id, file.id);
      assert.equal(stored.serverId, a.server.id);
      assert.equal(stored.status, 'ready');
      assert.equal(stored.chunkCount, 3);
      assert.equal(stored.size, '35');
      assert.equal(stored.ciphertextSha256, createHash('sha256').update(Buffer.concat(chunks)).digest('hex'));
      const rows = await chunkRows(file.id);
      assert.deepEqual(
        rows.map((r) => [r.seq, r.server_id, r.data.toString('hex')]),
        chunks.map((c, i) => [i, a.server.id, c.toString('hex')]),
      );
    });

    it('stores nothing when the writer fails part way', async () => {
      const file = newFile(a.account.address);
      await assert.rejects(
        files.upload(a.server.id, file, async (writer) => {
          await writer.put(randomBytes(8));
          throw new Error('client went away');
        }),
        /client went away/,
      );
      assert.equal(await db.dataSource.getRepository(FileEntity).countBy({ id: file.id }), 0);
      assert.equal((await chunkRows(file.id)).length, 0);
    });

    it("cross-tenant: uploading to B under A's file id fails and leaves A's file as it was", async () => {
      const fileA = await seedFile(db.dataSource, a.server.id);
      const before = await tenantSnapshot(db.dataSource, a.server.id);
      await assert.rejects(
        files.upload(b.server.id, { ...newFile(b.account.address), id: fileA.id }, async (writer) => {
          await writer.put(randomBytes(8));
          return { size: 8, ciphertextSha256: 'x' };
        }),
      );
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before);
      assert.equal((await tenantSnapshot(db.dataSource, b.server.id)).files.length, 0);
    });
  });

  describe('findReady', () => {
    it('finds a ready file of the server, not one still uploading', async () => {
      const ready = await seedFile(db.dataSource, a.server.id);
      const uploading = await seedFile(db.dataSource, a.server.id, { status: 'uploading' });
      assert.equal((await files.findReady(a.server.id, ready.id))?.id, ready.id);
      assert.equal(await files.findReady(a.server.id, uploading.id), null);
    });

    it("cross-tenant: B's id never finds A's file", async () => {
      const fileA = await seedFile(db.dataSource, a.server.id);
      assert.equal(await files.findReady(b.server.id, fileA.id), null);
    });
  });

  describe('listReady', () => {
    it('lists ready files newest first, pages by cursor, and narrows to one contributor', async () => {
      const member = randomAddress();
      const f1 = await seedFile(db.dataSource, a.server.id, { contributorAddress: member });
      const f2 = await seedFile(db.dataSource, a.server.id);
      const f3 = await seedFile(db.dataSource, a.server.id, { contributorAddress: member });
      await seedFile(db.dataSource, a.server.id, { status: 'uploading' });
      const first = await files.listReady(a.server.id, { limit: 2 });
      assert.deepEqual(
        first.map((f) => f.id),
        [f3.id, f2.id, f1.id],
        'limit + 1 rows, newest first',
      );
      const rest = await files.listReady(a.server.id, { limit: 2, cursor: f2.id });
      assert.deepEqual(
        rest.map((f) => f.id),
        [f1.id],
      );
      const mine = await files.listReady(a.server.id, {
        limit: 10,
        contributorAddress: member.toUpperCase(),
      });
      assert.deepEqual(
        mine.map((f) => f.id),
        [f3.id, f1.id],
      );
    });

    it("cross-tenant: B's list never holds A's files", async () => {
      const contributor = randomAddress();
      await seedFile(db.dataSource, a.server.id, { contributorAddress: contributor });
      const fileB = await seedFile(db.dataSource, b.server.id);
      assert.deepEqual(
        (await files.listReady(b.server.id, { limit: 10 })).map((f) => f.id),
        [fileB.id],
      );
      assert.deepEqual(
        await files.listReady(b.server.id, { limit: 10, contributorAddress: contributor }),
        [],
      );
    });
  });

  describe('listReadyAmong', () => {
    it('pages the ready files among the ids, newest first; uploading and unknown ids are absent', async () => {
      const f1 = await seedFile(db.dataSource, a.server.id);
      await seedFile(db.dataSource, a.server.id);
      const f3 = await seedFile(db.dataSource, a.server.id);
      const uploading = await seedFile(db.dataSource, a.server.id, { status: 'uploading' });
      const ids = [f1.id, f3.id, uploading.id, newId('fil')];
      assert.deepEqual(
        (await files.listReadyAmong(a.server.id, ids, { limit: 1 })).map((f) => f.id),
        [f3.id, f1.id],
      );
      assert.deepEqual(
        (await files.listReadyAmong(a.server.id, ids, { limit: 5, cursor: f3.id })).map((f) => f.id),
        [f1.id],
      );
    });

    it("cross-tenant: A's ids listed on B find nothing", async () => {
      const fileA = await seedFile(db.dataSource, a.server.id);
      const fileB = await seedFile(db.dataSource, b.server.id);
      assert.deepEqual(
        (await files.listReadyAmong(b.server.id, [fileA.id, fileB.id], { limit: 10 })).map((f) => f.id),
        [fileB.id],
      );
    });
  });

  describe('readyIds', () => {
    it('answers which ids are ready files of the server', async () => {
      const ready = await seedFile(db.dataSource, a.server.id);
      const uploading = await seedFile(db.dataSource, a.server.id, { status: 'uploading' });
      const unknown = newId('fil');
      assert.deepEqual(await files.readyIds(a.server.id, [ready.id, uploading.id, unknown]), [ready.id]);
      assert.deepEqual(await files.readyIds(a.server.id, []), []);
    });

    it("cross-tenant: A's ids are not ready files of B", async () => {
      const fileA = await seedFile(db.dataSource, a.server.id);
      const fileB = await seedFile(db.dataSource, b.server.id);
      assert.deepEqual(await files.readyIds(b.server.id, [fileA.id, fileB.id]), [fileB.id]);
    });
  });

  describe('readySizes', () => {
    it('answers the size of each id that is a ready file of the server', async () => {
      const small = await seedFile(db.dataSource, a.server.id, { size: 10 });
      const large = await seedFile(db.dataSource, a.server.id, { size: 3 * 64 * 1024 * 1024 });
      const uploading = await seedFile(db.dataSource, a.server.id, { status: 'uploading', size: 5 });
      const sizes = await files.readySizes(a.server.id, [small.id, large.id, uploading.id, newId('fil')]);
      assert.deepEqual(
        sizes.sort((x, y) => x.size - y.size),
        [
          { id: small.id, size: 10 },
          { id: large.id, size: 3 * 64 * 1024 * 1024 },
        ],
      );
      assert.deepEqual(await files.readySizes(a.server.id, []), []);
    });

    it("cross-tenant: A's ids have no size on B", async () => {
      const fileA = await seedFile(db.dataSource, a.server.id, { size: 7 });
      const fileB = await seedFile(db.dataSource, b.server.id, { size: 8 });
      assert.deepEqual(await files.readySizes(b.server.id, [fileA.id, fileB.id]), [
        { id: fileB.id, size: 8 },
      ]);
    });
  });

  describe('readyDescriptions', () => {
    it('describes each id that is a ready file of the server, without chunks or keys', async () => {
      const one = await seedFile(db.dataSource, a.server.id, { size: 11 });
      const uploading = await seedFile(db.dataSource, a.server.id, { status: 'uploading', size: 5 });
      const found = await files.readyDescriptions(a.server.id, [one.id, uploading.id, newId('fil')]);
      assert.equal(found.length, 1);
      assert.deepEqual(Object.keys(found[0]).sort(), [
        'createdAt',
        'encryption',
        'id',
        'sealedContentType',
        'size',
      ]);
      assert.equal(found[0].id, one.id);
      assert.equal(found[0].size, '11');
      assert.equal(found[0].encryption, 'server');
      assert.ok(found[0].sealedContentType.equals(one.sealedContentType));
      assert.deepEqual(await files.readyDescriptions(a.server.id, []), []);
    });

    it("cross-tenant: A's ids describe nothing on B", async () => {
      const fileA = await seedFile(db.dataSource, a.server.id);
      const fileB = await seedFile(db.dataSource, b.server.id);
      const onB = await files.readyDescriptions(b.server.id, [fileA.id, fileB.id]);
      assert.deepEqual(
        onB.map((f) => f.id),
        [fileB.id],
      );
    });
  });

  describe('readChunks', () => {
    it('streams every chunk in order, past one read batch', async () => {
      const chunks = Array.from({ length: 40 }, (_, i) => Buffer.from(`chunk ${i}`));
      const file = await seedFile(db.dataSource, a.server.id, { chunks });
      const read = await collect(files.readChunks(a.server.id, file.id));
      assert.deepEqual(
        read.map((c) => c.toString()),
        chunks.map((c) => c.toString()),
      );
    });

    it("cross-tenant: B's id reads nothing of A's file", async () => {
      const fileA = await seedFile(db.dataSource, a.server.id);
      assert.deepEqual(await collect(files.readChunks(b.server.id, fileA.id)), []);
    });
  });

  describe('findForReader', () => {
    async function session(accountId: string): Promise<Buffer> {
      const tokenHash = createHash('sha256').update(randomBytes(32)).digest();
      await db.dataSource.query(
        `INSERT INTO sessions (id, account_id, token_hash, expires_at) VALUES ($1, $2, $3, now() + interval '1 hour')`,
        [newId('ses'), accountId, tokenHash],
      );
      return tokenHash;
    }

    it('reads a small file with its chunks in order, a larger one without them, in one statement', async () => {
      const tokenHash = await session(a.account.id);
      const chunks = Array.from({ length: READ_INLINE_CHUNKS }, (_, i) => randomBytes(100 + i));
      const small = await seedFile(db.dataSource, a.server.id, { chunks });
      const found = await files.findForReader(a.server.id, small.id, tokenHash);
      assert.equal(found.found, 'server');
      if (found.found !== 'server') return;
      assert.equal(found.role, 'owner');
      assert.equal(found.file?.id, small.id);
      assert.deepEqual(found.chunks, chunks);

      const large = await seedFile(db.dataSource, a.server.id, {
        chunks: Array.from({ length: READ_INLINE_CHUNKS + 1 }, () => randomBytes(10)),
      });
      const big = await files.findForReader(a.server.id, large.id, tokenHash);
      assert.equal(big.found === 'server' && big.file?.id, large.id);
      assert.equal(big.found === 'server' && big.chunks, null);
    });

    it('tells a missing file, a foreign server and an unknown session apart', async () => {
      const tokenHash = await session(a.account.id);
      const fileB = await seedFile(db.dataSource, b.server.id);
      const missing = await files.findForReader(a.server.id, fileB.id, tokenHash);
      assert.equal(missing.found === 'server' && missing.file, null);
      assert.equal(missing.found === 'server' && missing.chunks, null);
      assert.equal((await files.findForReader(b.server.id, fileB.id, tokenHash)).found, 'no-server');
      assert.equal((await files.findForReader(a.server.id, fileB.id, randomBytes(32))).found, 'no-session');
    });
  });

  describe('delete', () => {
    it('removes the file and its chunks, and only that file', async () => {
      const gone = await seedFile(db.dataSource, a.server.id);
      const kept = await seedFile(db.dataSource, a.server.id);
      assert.equal(await files.delete(a.server.id, gone.id), true);
      assert.equal(await db.dataSource.getRepository(FileEntity).countBy({ id: gone.id }), 0);
      assert.equal((await chunkRows(gone.id)).length, 0);
      assert.equal((await chunkRows(kept.id)).length, 2);
      assert.equal(await files.delete(a.server.id, gone.id), false, 'a second delete finds nothing');
    });

    it("cross-tenant: B's id deletes nothing of A", async () => {
      const fileA = await seedFile(db.dataSource, a.server.id);
      const before = await tenantSnapshot(db.dataSource, a.server.id);
      assert.equal(await files.delete(b.server.id, fileA.id), false);
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before);
    });
  });
});
