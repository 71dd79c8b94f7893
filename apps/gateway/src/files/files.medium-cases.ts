import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AccessLogRepository, FileEntity } from '@hearth/db';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { mediumGateway, type MediumGateway, type Tenant, problem } from '../../../../test/support/medium';
import type { KeyManager } from '@hearth/kms';
import { KEY_MANAGER } from '../keys/keys.module';
import { MetadataSealer } from '../keys/metadata-sealer';
import { FilesModule } from './files.module';
import { FilesService } from './files.service';

/** The raw upload stream as the controller hands it over. */
function request(
  body: Buffer,
  headers: Record<string, string> = { 'content-type': 'text/plain' },
): IncomingMessage {
  return Object.assign(Readable.from([body.subarray(0, 7), body.subarray(7)]), {
    headers,
  }) as unknown as IncomingMessage;
}

async function text(stream: Readable | Buffer): Promise<string> {
  if (Buffer.isBuffer(stream)) return stream.toString('utf8');
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Uint8Array));
  return Buffer.concat(parts).toString('utf8');
}

describe('FilesService (real Postgres, local key manager)', () => {
  let gw: MediumGateway;
  let files: FilesService;
  let a: Tenant;
  let b: Tenant;

  /** How many download rows the server's access log holds. */
  async function readRows(serverId: string): Promise<number> {
    const rows = await gw.dataSource.query<Array<{ n: string }>>(
      `SELECT count(*) AS n FROM access_log WHERE server_id = $1 AND outcome = 'read'`,
      [serverId],
    );
    return Number(rows[0].n);
  }

  before(async () => {
    gw = await mediumGateway({ imports: [FilesModule], config: { MAX_UPLOAD_BYTES: '4096' } });
    files = gw.get(FilesService);
    [a, b] = await Promise.all([gw.tenant(), gw.tenant()]);
  });
  after(() => gw.close());

  const countFiles = (serverId: string) => gw.dataSource.getRepository(FileEntity).countBy({ serverId });

  it('seals an upload, lists it, streams the plaintext back to the owner and logs the read', async () => {
    const body = Buffer.from('Dear diary, today the weather was fine.');
    const view = await files.upload(a.server, a.account, 'diary.txt', request(body));
    assert.deepEqual(
      { ...view, createdAt: typeof view.createdAt },
      {
        id: view.id,
        name: 'diary.txt',
        size: body.length,
        contentType: 'text/plain',
        encryption: 'server',
        contributor: a.account.address,
        createdAt: 'string',
      },
    );
    const stored = await gw.dataSource.getRepository(FileEntity).findOneByOrFail({ id: view.id });
    assert.equal(stored.status, 'ready');
    const [chunk] = await gw.dataSource.query<Array<{ data: Buffer }>>(
      'SELECT data FROM file_chunks WHERE file_id = $1',
      [view.id],
    );
    assert.equal(chunk.data.includes(body), false, 'the stored chunk is ciphertext');
    const page = await files.list(a.server, 'owner', a.account, { limit: 10 });
    assert.deepEqual(
      page.items.map((f) => f.id),
      [view.id],
    );
    const opened = await files.openForReader(await gw.session(a.account), a.server.id, view.id);
    assert.equal(await text(opened.body), body.toString());
    await opened.logged;
    const [read] = await gw.get(AccessLogRepository).list(a.server.id, { limit: 1 });
    assert.deepEqual(
      [read.outcome, read.operation, read.fileIds, read.actor],
      ['read', 'download', [view.id], a.account.address.toLowerCase()],
    );
  });

  it('never serves a whole download without its access-log row: the body fails when the row cannot be stored', async () => {
    const t = await gw.tenant();
    const view = await files.upload(
      t.server,
      t.account,
      'kept.txt',
      request(Buffer.from('logged or nothing')),
    );
    const log = gw.get(AccessLogRepository);
    const append = log.appendDownloads.bind(log);
    log.appendDownloads = () => Promise.reject(new Error('access log unavailable'));
    try {
      const opened = await files.openForReader(await gw.session(t.account), t.server.id, view.id);
      // A small file's bytes are ready at once; the route ends the response only once `logged` resolves.
      await assert.rejects(opened.logged, /access log unavailable/);
    } finally {
      log.appendDownloads = append;
    }
  });

  it("writes concurrent reads' rows in shared INSERTs, each read settling once its own row is stored", async () => {
    const t = await gw.tenant();
    const view = await files.upload(t.server, t.account, 'busy.txt', request(Buffer.from('read often')));
    const session = await gw.session(t.account);
    const log = gw.get(AccessLogRepository);
    const append = log.appendDownloads.bind(log);
    const batches: number[] = [];
    log.appendDownloads = async (rows) => {
      batches.push(rows.length);
      await append(rows);
    };
    try {
      const reads = 40;
      const opened = await Promise.all(
        Array.from({ length: reads }, () => files.openForReader(session, t.server.id, view.id)),
      );
      await Promise.all(opened.map((o) => o.logged));
      assert.equal(await readRows(t.server.id), reads);
      assert.equal(
        batches.reduce((a, n) => a + n, 0),
        reads,
      );
      assert.ok(batches.length < reads, `one INSERT per read: ${batches.join(',')}`);
    } finally {
      log.appendDownloads = append;
    }
  });

  it('a batch that fails is retried row by row: the good rows of it are still stored', async () => {
    const t = await gw.tenant();
    const view = await files.upload(t.server, t.account, 'mixed.txt', request(Buffer.from('one bad row')));
    const session = await gw.session(t.account);
    const log = gw.get(AccessLogRepository);
    const append = log.appendDownloads.bind(log);
    // The first INSERT carries a row of a server that is gone; the retries then go one row each.
    let poisoned = false;
    log.appendDownloads = (rows) =>
      append(
        poisoned
          ? rows
          : ((poisoned = true), [...rows, { serverId: 'srv_gone', fileId: 'fil_x', actor: '0x0' }]),
      );
    try {
      const opened = await Promise.all(
        Array.from({ length: 5 }, () => files.openForReader(session, t.server.id, view.id)),
      );
      await Promise.all(opened.map((o) => o.logged));
      assert.equal(await readRows(t.server.id), 5);
    } finally {
      log.appendDownloads = append;
    }
  });

  it('answers a missing, signed-out or expired session with 401 before anything else', async () => {
    const err = await problem(files.openForReader(Buffer.alloc(32, 7), a.server.id, 'fil_x'));
    assert.deepEqual([err.status, err.code], [401, 'invalid_session']);
  });

  it('stores nothing of an upload past MAX_UPLOAD_BYTES (413)', async () => {
    const t = await gw.tenant();
    const err = await problem(files.upload(t.server, t.account, 'big.txt', request(Buffer.alloc(5000, 'x'))));
    assert.equal(err.status, 413);
    assert.equal(await countFiles(t.server.id), 0);
  });

  it('refuses an envelope sealed to another server, storing nothing', async () => {
    const t = await gw.tenant();
    const err = await problem(
      files.upload(
        t.server,
        t.account,
        'sealed.bin',
        request(Buffer.alloc(300, 1), { 'content-type': 'application/vnd.hearth.envelope' }),
      ),
    );
    assert.equal(err.status, 400);
    assert.equal(await countFiles(t.server.id), 0);
  });

  it("wraps a collective member's file under their own key; members, admins and the creator see their own files only", async () => {
    const collective = await gw.collective(a);
    const alice = await gw.member(collective);
    const bob = await gw.member(collective);
    const mine = await files.upload(
      collective,
      alice.account,
      'alice.txt',
      request(Buffer.from('from alice')),
    );
    const theirs = await files.upload(collective, bob.account, 'bob.txt', request(Buffer.from('from bob')));
    const row = await gw.dataSource.getRepository(FileEntity).findOneByOrFail({ id: mine.id });
    assert.equal(row.kmsKeyRef, alice.member.kmsKeyRef);
    assert.deepEqual(
      (await files.list(collective, 'member', alice.account, { limit: 10 })).items.map((f) => f.id),
      [mine.id],
    );
    // The creator (an admin) contributed nothing: it lists nothing and opens nobody's file.
    assert.deepEqual(
      (await files.list(collective, 'owner', a.account, { limit: 10 })).items.map((f) => f.id),
      [],
    );
    assert.equal((await problem(files.findReadable(collective, 'owner', a.account, mine.id))).status, 404);
    assert.equal((await problem(files.remove(collective, 'admin', a.account, mine.id))).status, 404);
    const creatorSession = await gw.session(a.account);
    assert.equal((await problem(files.openForReader(creatorSession, collective.id, mine.id))).status, 404);
    const aliceSession = await gw.session(alice.account);
    assert.equal((await problem(files.openForReader(aliceSession, collective.id, theirs.id))).status, 404);
    const opened = await files.openForReader(aliceSession, collective.id, mine.id);
    assert.equal(await text(opened.body), 'from alice');
  });

  it("cross-tenant: B can neither see, read nor delete A's file", async () => {
    const fileA = await files.upload(a.server, a.account, 'a-only.txt', request(Buffer.from('only for A')));
    assert.equal((await problem(files.findReadable(b.server, 'owner', b.account, fileA.id))).status, 404);
    // B's own session naming A's server, or B's server with A's file id: 404 either way.
    const sessionB = await gw.session(b.account);
    assert.equal((await problem(files.openForReader(sessionB, a.server.id, fileA.id))).status, 404);
    assert.equal((await problem(files.openForReader(sessionB, b.server.id, fileA.id))).status, 404);
    assert.equal((await problem(files.remove(b.server, 'owner', b.account, fileA.id))).status, 404);
    assert.equal(
      (await files.list(b.server, 'owner', b.account, { limit: 50 })).items.some((f) => f.id === fileA.id),
      false,
    );
    const still = await files.openForReader(await gw.session(a.account), a.server.id, fileA.id);
    assert.equal(await text(still.body), 'only for A');
  });

  it('removes a file with its chunks', async () => {
    const t = await gw.tenant();
    const view = await files.upload(t.server, t.account, 'gone.txt', request(Buffer.from('bye')));
    await files.remove(t.server, 'owner', t.account, view.id);
    assert.equal(await countFiles(t.server.id), 0);
    const chunks = await gw.dataSource.query<unknown[]>('SELECT 1 FROM file_chunks WHERE file_id = $1', [
      view.id,
    ]);
    assert.equal(chunks.length, 0);
    assert.equal((await problem(files.findReadable(t.server, 'owner', t.account, view.id))).status, 404);
  });

  it('seals names and content types; a listing opens them with one key-manager unwrap per server, then none', async () => {
    const t = await gw.tenant();
    const names = ['diagnosis-hiv.pdf', 'divorce-letter.txt', 'salary-2026.csv'];
    for (const name of names)
      await files.upload(
        t.server,
        t.account,
        name,
        request(Buffer.from('x'), { 'content-type': 'text/csv' }),
      );
    const rows = await gw.dataSource.query<Array<{ sealed_name: Buffer; sealed_content_type: Buffer }>>(
      'SELECT sealed_name, sealed_content_type FROM files WHERE server_id = $1',
      [t.server.id],
    );
    for (const r of rows) {
      assert.equal(/diagnosis|divorce|salary/.test(r.sealed_name.toString('latin1')), false);
      assert.equal(r.sealed_content_type.includes(Buffer.from('text/csv')), false);
    }
    const keys = gw.get<KeyManager>(KEY_MANAGER);
    const unwrap = keys.unwrapDataKey.bind(keys);
    let metadataUnwraps = 0;
    keys.unwrapDataKey = (ref, wrapped, context) => {
      if (context.purpose === 'metadata') metadataUnwraps++;
      return unwrap(ref, wrapped, context);
    };
    try {
      gw.get(MetadataSealer).forget(t.server.id); // a cold cache, as after METADATA_KEY_CACHE_SECONDS
      const page = await files.list(t.server, 'owner', t.account, { limit: 10 });
      assert.deepEqual(page.items.map((f) => f.name).sort(), [...names].sort());
      assert.ok(page.items.every((f) => f.contentType === 'text/csv'));
      assert.equal(metadataUnwraps, 1);
      await files.list(t.server, 'owner', t.account, { limit: 10 });
      assert.equal(metadataUnwraps, 1, 'the second listing unwrapped again');
    } finally {
      keys.unwrapDataKey = unwrap;
    }
  });
});
