import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Client } from 'pg';
import { encryptEnvelope, ENVELOPE_CONTENT_TYPE } from '@hearth/crypto';
import { fileKeyContext, isKeyManagerError, keyManagerFromConfig } from '@hearth/kms';
import type { GrantRelayer } from '@hearth/permissions';
import {
  problemOf,
  type RunningGateway,
  type RunningWorker,
  startGateway,
  startWorker,
} from './support/apps';
import { bearer } from './support/siwe';
import {
  type App,
  grant,
  json,
  newApp,
  newTenant,
  relayerFor,
  submit,
  type Tenant,
  uploadText,
  waitDone,
} from './support/flow';

interface FileBody {
  id: string;
  name: string;
  size: number;
  contentType: string;
  encryption: 'server' | 'client';
  contributor: string;
  createdAt: string;
}

const TEXT =
  'The lighthouse keeper wrote in her journal every night. ' +
  'On Monday the lighthouse lamp flickered during the storm. ' +
  'By Friday the lighthouse was repainted white and red.';

function filesUrl(url: string, t: Tenant, suffix = ''): string {
  return `${url}/v1/servers/${t.serverId}/files${suffix}`;
}

function upload(
  url: string,
  t: Tenant,
  name: string,
  body: Uint8Array | string,
  contentType: string,
): Promise<Response> {
  return fetch(filesUrl(url, t, `?name=${encodeURIComponent(name)}`), {
    method: 'POST',
    headers: { ...bearer(t.token), 'content-type': contentType },
    body,
  });
}

/** An upload with no Content-Length (chunked), so only the streaming byte counter can stop it. */
function uploadChunked(
  url: string,
  t: Tenant,
  name: string,
  parts: Buffer[],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      filesUrl(url, t, `?name=${encodeURIComponent(name)}`),
      {
        method: 'POST',
        headers: {
          ...bearer(t.token),
          'content-type': 'application/octet-stream',
          'transfer-encoding': 'chunked',
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    // The server may answer and close before every part is written; the answer is what counts.
    req.on('error', reject);
    for (const p of parts) req.write(p);
    req.end();
  });
}

/** Downloads a file; `error` is set when the request or its body failed. */
async function download(
  url: string,
  t: Tenant,
  fileId: string,
): Promise<{ status?: number; bytes?: Buffer; error?: unknown }> {
  let res: Response;
  try {
    res = await fetch(filesUrl(url, t, `/${fileId}/content`), { headers: bearer(t.token) });
  } catch (error) {
    return { error };
  }
  try {
    return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
  } catch (error) {
    return { status: res.status, error };
  }
}

describe('files', () => {
  let gw: RunningGateway;
  let worker: RunningWorker;
  let relayer: GrantRelayer;
  let db: Client;
  let alice: Tenant;
  let bob: Tenant;
  let alicePublicKey: string;
  let bobPublicKey: string;

  async function counts(serverId: string): Promise<{ files: number; chunks: number }> {
    const { rows } = await db.query<{ files: number; chunks: number }>(
      `SELECT (SELECT count(*) FROM files WHERE server_id = $1)::int AS files,
              (SELECT count(*) FROM file_chunks WHERE server_id = $1)::int AS chunks`,
      [serverId],
    );
    return rows[0];
  }

  async function chunkRows(fileId: string): Promise<Buffer[]> {
    const { rows } = await db.query<{ data: Buffer }>(
      'SELECT data FROM file_chunks WHERE file_id = $1 ORDER BY seq',
      [fileId],
    );
    return rows.map((r) => r.data);
  }

  async function publicKeyOf(t: Tenant): Promise<string> {
    return (
      await json<{ publicKey: string }>(
        await fetch(`${gw.url}/v1/servers/${t.serverId}`, { headers: bearer(t.token) }),
      )
    ).publicKey;
  }

  before(async () => {
    gw = await startGateway();
    worker = await startWorker();
    relayer = relayerFor(gw.config);
    db = new Client({ connectionString: gw.config.DATABASE_URL });
    await db.connect();
    [alice, bob] = await Promise.all([newTenant(gw.url), newTenant(gw.url)]);
    [alicePublicKey, bobPublicKey] = await Promise.all([publicKeyOf(alice), publicKeyOf(bob)]);
  });
  after(async () => {
    await db.end();
    await worker.close();
    await gw.close();
  });

  it('uploads text (201 with the documented shape), serves its metadata and its exact bytes', async () => {
    const res = await upload(gw.url, alice, 'journal.txt', TEXT, 'text/plain; charset=utf-8');
    assert.equal(res.status, 201, await res.clone().text());
    const file = (await res.json()) as FileBody;
    assert.match(file.id, /^fil_[0-9a-f]{32}$/);
    assert.equal(file.name, 'journal.txt');
    assert.equal(file.size, Buffer.byteLength(TEXT));
    assert.equal(file.contentType, 'text/plain');
    assert.equal(file.encryption, 'server');
    assert.equal(new Date(file.createdAt).toISOString(), file.createdAt);
    assert.equal(file.contributor, alice.owner.address);

    const meta = await fetch(filesUrl(gw.url, alice, `/${file.id}`), { headers: bearer(alice.token) });
    assert.equal(meta.status, 200);
    assert.deepEqual(await meta.json(), file);

    const got = await download(gw.url, alice, file.id);
    assert.equal(got.error, undefined);
    assert.equal(got.status, 200);
    assert.equal(got.bytes?.toString('utf8'), TEXT);

    // What Postgres holds is ciphertext: no row contains the plaintext or a distinctive piece of it.
    const rows = await chunkRows(file.id);
    assert.ok(rows.length >= 1);
    for (const row of rows) {
      assert.equal(row.includes(Buffer.from(TEXT)), false);
      assert.equal(row.includes(Buffer.from('lighthouse')), false);
    }
    const { rows: anywhere } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM file_chunks WHERE position($1::bytea in data) > 0`,
      [Buffer.from('lighthouse keeper')],
    );
    assert.equal(anywhere[0].n, 0);
  });

  it('round-trips a 3 MiB binary file across many 64 KiB chunks byte for byte', async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    const res = await upload(gw.url, alice, 'blob.bin', bytes, 'application/octet-stream');
    assert.equal(res.status, 201, await res.clone().text());
    const file = (await res.json()) as FileBody;
    assert.equal(file.size, bytes.length);
    const rows = await chunkRows(file.id);
    assert.ok(rows.length >= 48, `only ${rows.length} chunks`);
    const { rows: meta } = await db.query<{ chunk_count: number }>(
      'SELECT chunk_count FROM files WHERE id = $1',
      [file.id],
    );
    assert.equal(meta[0].chunk_count, rows.length);
    // No stored chunk holds a piece of the plaintext.
    for (const offset of [0, 65_536, 1_000_000, bytes.length - 32]) {
      const sample = bytes.subarray(offset, offset + 32);
      assert.ok(
        rows.every((r) => !r.includes(sample)),
        `plaintext at ${offset} found in a chunk`,
      );
    }
    const got = await download(gw.url, alice, file.id);
    assert.equal(got.error, undefined);
    assert.equal(got.status, 200);
    assert.ok(got.bytes?.equals(bytes), 'downloaded bytes differ');
  });

  it('lists files newest first, one page at a time', async () => {
    const t = await newTenant(gw.url);
    const ids: string[] = [];
    for (const n of ['a.txt', 'b.txt', 'c.txt']) ids.push(await uploadText(gw.url, t, n, `file ${n}`));
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page++) {
      const qs: string = cursor ? `?limit=1&cursor=${cursor}` : '?limit=1';
      const body = await json<{ items: FileBody[]; nextCursor: string | null }>(
        await fetch(filesUrl(gw.url, t, qs), { headers: bearer(t.token) }),
      );
      assert.equal(body.items.length, 1);
      seen.push(body.items[0].id);
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    assert.deepEqual(seen, [...ids].reverse());
    const all = await json<{ items: FileBody[]; nextCursor: string | null }>(
      await fetch(filesUrl(gw.url, t), { headers: bearer(t.token) }),
    );
    assert.deepEqual(
      all.items.map((f) => f.name),
      ['c.txt', 'b.txt', 'a.txt'],
    );
    assert.equal(all.nextCursor, null);
  });

  it('deletes a file: 204, then 404, and its chunks are gone', async () => {
    const id = await uploadText(gw.url, alice, 'gone.txt', 'delete me');
    assert.ok((await chunkRows(id)).length >= 1);
    const del = await fetch(filesUrl(gw.url, alice, `/${id}`), {
      method: 'DELETE',
      headers: bearer(alice.token),
    });
    assert.equal(del.status, 204);
    for (const suffix of [`/${id}`, `/${id}/content`]) {
      const res = await fetch(filesUrl(gw.url, alice, suffix), { headers: bearer(alice.token) });
      assert.equal(res.status, 404, suffix);
      assert.equal((await problemOf(res)).code, 'not_found');
    }
    assert.equal(
      (await fetch(filesUrl(gw.url, alice, `/${id}`), { method: 'DELETE', headers: bearer(alice.token) }))
        .status,
      404,
    );
    assert.equal((await chunkRows(id)).length, 0);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM files WHERE id = $1', [
      id,
    ]);
    assert.equal(rows[0].n, 0);
  });

  it("stores a client envelope encrypted to the server's key as is", async () => {
    const plaintext = Buffer.from('A client-side secret: the lighthouse key is under the mat.');
    const envelope = encryptEnvelope(alicePublicKey, plaintext);
    const res = await upload(gw.url, alice, 'secret.hev', envelope, ENVELOPE_CONTENT_TYPE);
    assert.equal(res.status, 201, await res.clone().text());
    const file = (await res.json()) as FileBody;
    assert.equal(file.encryption, 'client');
    assert.equal(file.contentType, ENVELOPE_CONTENT_TYPE);
    assert.equal(file.size, envelope.length);
    assert.ok(Buffer.concat(await chunkRows(file.id)).equals(envelope), 'stored bytes are not the envelope');
    const got = await download(gw.url, alice, file.id);
    assert.equal(got.status, 200);
    assert.ok(got.bytes?.equals(envelope), 'downloaded bytes are not the envelope');
  });

  it('refuses bad envelopes with 400 and writes no row', async () => {
    const before = await counts(alice.serverId);
    const good = encryptEnvelope(
      alicePublicKey,
      Buffer.from('some words for a truncated envelope '.repeat(10)),
      { chunkSize: 64 },
    );
    const cases: Array<[string, Buffer, string | undefined]> = [
      [
        'wrong recipient',
        encryptEnvelope(bobPublicKey, Buffer.from('meant for bob')),
        'envelope_wrong_recipient',
      ],
      ['truncated', good.subarray(0, good.length - 20), 'ciphertext_invalid'],
      ['cut after the header', good.subarray(0, 70), 'ciphertext_invalid'],
      ['garbage', randomBytes(500), undefined],
      ['empty', Buffer.alloc(0), undefined],
    ];
    for (const [label, body, code] of cases) {
      const res = await upload(gw.url, alice, 'bad.hev', body, ENVELOPE_CONTENT_TYPE);
      assert.equal(res.status, 400, `${label}: ${await res.clone().text()}`);
      const problem = await problemOf(res);
      if (code) assert.equal(problem.code, code, label);
      assert.ok(
        problem.errors?.some((e) => e.field === 'body'),
        `${label}: ${JSON.stringify(problem.errors)}`,
      );
      assert.deepEqual(await counts(alice.serverId), before, label);
    }
  });

  it('refuses an upload over the size limit with 413, declared or streamed, and stores nothing', async () => {
    const small = await startGateway({ MAX_UPLOAD_BYTES: '1024' });
    try {
      const before = await counts(alice.serverId);
      const declared = await upload(
        small.url,
        alice,
        'big.bin',
        randomBytes(4096),
        'application/octet-stream',
      );
      assert.equal(declared.status, 413);
      assert.equal((await problemOf(declared)).code, 'payload_too_large');
      const streamed = await uploadChunked(small.url, alice, 'big.bin', [
        randomBytes(700),
        randomBytes(700),
        randomBytes(700),
      ]);
      assert.equal(streamed.status, 413, streamed.body);
      assert.equal((JSON.parse(streamed.body) as { code: string }).code, 'payload_too_large');
      assert.deepEqual(await counts(alice.serverId), before);
      // At the limit is fine.
      const exact = await upload(
        small.url,
        alice,
        'exact.bin',
        randomBytes(1024),
        'application/octet-stream',
      );
      assert.equal(exact.status, 201);
    } finally {
      await small.close();
    }
  });

  it('rejects a missing name, unknown query fields and multipart bodies, naming the field, and stores nothing', async () => {
    const before = await counts(alice.serverId);
    const noName = await fetch(filesUrl(gw.url, alice), {
      method: 'POST',
      headers: { ...bearer(alice.token), 'content-type': 'text/plain' },
      body: 'x',
    });
    assert.equal(noName.status, 400);
    assert.ok((await problemOf(noName)).errors?.some((e) => e.field === 'query.name'));

    const unknown = await fetch(filesUrl(gw.url, alice, '?name=a.txt&colour=red'), {
      method: 'POST',
      headers: { ...bearer(alice.token), 'content-type': 'text/plain' },
      body: 'x',
    });
    assert.equal(unknown.status, 400);
    const unknownProblem = await problemOf(unknown);
    assert.equal(unknownProblem.code, 'validation_failed');
    assert.ok(
      JSON.stringify(unknownProblem.errors).includes('colour'),
      JSON.stringify(unknownProblem.errors),
    );

    const form = new FormData();
    form.append('file', new Blob(['hello']), 'hello.txt');
    const multipart = await fetch(filesUrl(gw.url, alice, '?name=hello.txt'), {
      method: 'POST',
      headers: bearer(alice.token),
      body: form,
    });
    assert.equal(multipart.status, 415);
    assert.equal((await problemOf(multipart)).code, 'unsupported_media_type');
    assert.deepEqual(await counts(alice.serverId), before);
  });

  it("answers 404 for another tenant's file on metadata, content and delete", async () => {
    const id = await uploadText(gw.url, alice, 'private.txt', 'only alice');
    const attempts: Array<[string, string, string]> = [
      ['GET', `${gw.url}/v1/servers/${bob.serverId}/files/${id}`, 'metadata via own server'],
      ['GET', `${gw.url}/v1/servers/${bob.serverId}/files/${id}/content`, 'content via own server'],
      ['DELETE', `${gw.url}/v1/servers/${bob.serverId}/files/${id}`, 'delete via own server'],
      ['GET', `${gw.url}/v1/servers/${alice.serverId}/files/${id}`, 'metadata via her server'],
      ['GET', `${gw.url}/v1/servers/${alice.serverId}/files/${id}/content`, 'content via her server'],
      ['DELETE', `${gw.url}/v1/servers/${alice.serverId}/files/${id}`, 'delete via her server'],
      ['GET', `${gw.url}/v1/servers/${alice.serverId}/files`, 'list via her server'],
    ];
    for (const [method, url, label] of attempts) {
      const res = await fetch(url, { method, headers: bearer(bob.token) });
      assert.equal(res.status, 404, label);
      const body = await res.text();
      assert.equal(body.includes('only alice'), false, label);
    }
    const still = await download(gw.url, alice, id);
    assert.equal(still.bytes?.toString(), 'only alice');
  });

  describe('in the worker', () => {
    let app: App;
    let envelopeFileId: string;
    let tamperedFileId: string;
    let grantId: string;

    before(async () => {
      const res = await upload(
        gw.url,
        alice,
        'client.hev',
        encryptEnvelope(
          alicePublicKey,
          Buffer.from('The lighthouse stood on the cliff. Ships saw the lighthouse from far away.'),
        ),
        ENVELOPE_CONTENT_TYPE,
      );
      envelopeFileId = (await json<FileBody>(res)).id;
      tamperedFileId = await uploadText(gw.url, alice, 'tampered.txt', TEXT);
      app = await newApp(gw.url, alice);
      grantId = await grant(
        relayer,
        alice,
        app.account.address,
        ['summarize'],
        [envelopeFileId, tamperedFileId],
      );
    });

    it('decrypts a client envelope inside the isolated job', async () => {
      const res = await submit(gw.url, app, {
        operation: 'summarize',
        fileIds: [envelopeFileId],
        parameters: { sentences: 1 },
        grantId,
      });
      assert.equal(res.status, 202, await res.clone().text());
      const done = await waitDone(gw.url, app, (await json<{ id: string }>(res)).id);
      assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
      assert.match(JSON.stringify(done.result), /lighthouse/i);
    });

    it('a flipped ciphertext byte fails the operation (ciphertext_invalid) and breaks the download', async () => {
      const update = await db.query(
        `UPDATE file_chunks SET data = set_byte(data, 20, get_byte(data, 20) # 1) WHERE file_id = $1 AND seq = 0`,
        [tamperedFileId],
      );
      assert.equal(update.rowCount, 1);
      const res = await submit(gw.url, app, { operation: 'summarize', fileIds: [tamperedFileId], grantId });
      assert.equal(res.status, 202, await res.clone().text());
      const done = await waitDone(gw.url, app, (await json<{ id: string }>(res)).id);
      assert.equal(done.status, 'failed');
      assert.equal(done.error?.code, 'ciphertext_invalid');
      assert.equal(done.result, undefined);

      const got = await download(gw.url, alice, tamperedFileId);
      assert.ok(
        got.error !== undefined || got.status !== 200,
        `a tampered file downloaded as a complete 200 (${got.bytes?.length} bytes, equal to the original: ${String(got.bytes?.toString() === TEXT)})`,
      );
      assert.notEqual(got.bytes?.toString(), TEXT);
    });

    it('a flipped byte in the last chunk of a large file breaks the download after the first chunks', async () => {
      const bytes = randomBytes(300 * 1024);
      const id = (
        await json<FileBody>(await upload(gw.url, alice, 'big.bin', bytes, 'application/octet-stream'))
      ).id;
      const update = await db.query(
        `UPDATE file_chunks SET data = set_byte(data, 40, get_byte(data, 40) # 128)
         WHERE file_id = $1 AND seq = (SELECT max(seq) FROM file_chunks WHERE file_id = $1)`,
        [id],
      );
      assert.equal(update.rowCount, 1);
      const got = await download(gw.url, alice, id);
      assert.ok(
        got.error !== undefined || got.status !== 200,
        `a tampered file downloaded as a complete 200 (${got.bytes?.length} bytes)`,
      );
    });
  });

  it('deleting the server destroys its key first: rows gone, wrapped data keys unusable (key_destroyed)', async () => {
    const carol = await newTenant(gw.url);
    const fileId = await uploadText(gw.url, carol, 'carol.txt', 'carol was here');
    const { rows } = await db.query<{ kms_key_ref: string; wrapped_data_key: Buffer }>(
      `SELECT s.kms_key_ref, f.wrapped_data_key FROM servers s JOIN files f ON f.server_id = s.id WHERE s.id = $1 AND f.id = $2`,
      [carol.serverId, fileId],
    );
    assert.equal(rows.length, 1);
    const { kms_key_ref: ref, wrapped_data_key: wrapped } = rows[0];
    const keys = await keyManagerFromConfig(gw.config);
    // Before: the wrapped key opens, so the failure afterwards is the deletion's doing.
    (await keys.unwrapDataKey(ref, wrapped, fileKeyContext(carol.serverId, fileId))).fill(0);

    const del = await fetch(`${gw.url}/v1/servers/${carol.serverId}`, {
      method: 'DELETE',
      headers: bearer(carol.token),
    });
    assert.equal(del.status, 204);
    const left = await db.query<{ servers: number; files: number; chunks: number }>(
      `SELECT (SELECT count(*) FROM servers WHERE id = $1)::int AS servers,
              (SELECT count(*) FROM files WHERE server_id = $1)::int AS files,
              (SELECT count(*) FROM file_chunks WHERE server_id = $1)::int AS chunks`,
      [carol.serverId],
    );
    assert.deepEqual(left.rows[0], { servers: 0, files: 0, chunks: 0 });
    await assert.rejects(
      keys.unwrapDataKey(ref, wrapped, fileKeyContext(carol.serverId, fileId)),
      (err: unknown) => isKeyManagerError(err, 'key_destroyed'),
    );
    assert.equal(
      (await fetch(filesUrl(gw.url, carol, `/${fileId}/content`), { headers: bearer(carol.token) })).status,
      404,
    );
  });
});
