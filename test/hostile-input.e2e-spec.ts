/*
 * Attacks on the promises of the README, each reproduced as an attacker (or a careless client) would try it over
 * HTTP, against the real gateway, worker, Postgres, Redis and dev chain: input larger than an operation takes,
 * bodies nested to overflow the stack, bodies whose Content-Encoding lies, a HEAD that counted as a read, receipts
 * that said nothing of the parameters, and refusals that left no trace in the owner's access log.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { OperationRepository } from '@hearth/db';
import { newId } from '@hearth/ids';
import type { GrantRelayer } from '@hearth/permissions';
import { OperationQueue } from '@hearth/queue';
import { canonicalJson } from '@hearth/receipts';
import { DataSource } from 'typeorm';
import { keccak256, stringToHex, verifyTypedData } from 'viem';
import {
  problemOf,
  type RunningGateway,
  type RunningWorker,
  startGateway,
  startWorker,
} from './support/apps';
import {
  type App,
  grant,
  json,
  newApp,
  newTenant,
  relayerFor,
  revoke,
  submit,
  type Tenant,
  uploadText,
  waitDone,
} from './support/flow';
import { MetadataSealer } from '../apps/gateway/src/keys/metadata-sealer';
import { bearer } from './support/siwe';

const MiB = 1024 * 1024;
const TEXT =
  'The harbour was quiet on Monday. Fishing boats came back early because of the wind. ' +
  'On Tuesday the market sold fresh bread and the baker was happy with the crowd.';

interface AccessLogRow {
  id: string;
  actor: string;
  apiKeyId: string | null;
  grantId: string | null;
  operation: string | null;
  fileIds: string[];
  outcome: string;
  code: string | null;
  receipt: unknown;
}

/** A text of `bytes` bytes made of sentences (so summarize would take it, were it small enough). */
function bigText(bytes: number): string {
  return TEXT.repeat(Math.ceil(bytes / TEXT.length)).slice(0, bytes);
}

/** `{"a":{"a":…}}` nested `depth` deep, built as text (JSON.stringify of it would itself overflow). */
function nested(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

describe('hostile input', () => {
  let gw: RunningGateway;
  let worker: RunningWorker;
  let db: DataSource;
  let relayer: GrantRelayer;
  let tenant: Tenant;
  let app: App;
  let fileId: string;
  let grantId: string;

  const accessLog = async (query = ''): Promise<AccessLogRow[]> =>
    (
      await json<{ items: AccessLogRow[] }>(
        await fetch(`${gw.url}/v1/servers/${tenant.serverId}/access-log${query}`, {
          headers: bearer(tenant.token),
        }),
      )
    ).items;

  const operationCount = async (serverId: string): Promise<number> => {
    const [row] = await db.query<Array<{ n: number }>>(
      'SELECT count(*)::int AS n FROM operations WHERE server_id = $1',
      [serverId],
    );
    return row.n;
  };

  before(async () => {
    gw = await startGateway();
    worker = await startWorker();
    db = gw.app.get(DataSource);
    relayer = relayerFor(gw.config);
    tenant = await newTenant(gw.url);
    fileId = await uploadText(gw.url, tenant, 'harbour.txt', TEXT);
    app = await newApp(gw.url, tenant);
    grantId = await grant(relayer, tenant, app.account.address, ['summarize', 'ask'], [fileId]);
  });
  after(async () => {
    await worker.close();
    await gw.close();
  });

  describe("input larger than the operation's maxInputBytes", () => {
    let big: Tenant;
    let bigApp: App;
    let bigFiles: string[];
    let bigGrant: string;

    before(async () => {
      // summarize takes 16 MiB; three 6 MiB files are 18 MiB, which today the worker loads and decrypts whole.
      big = await newTenant(gw.url);
      bigFiles = [];
      for (const n of [1, 2, 3])
        bigFiles.push(await uploadText(gw.url, big, `part${n}.txt`, bigText(6 * MiB)));
      bigApp = await newApp(gw.url, big);
      bigGrant = await grant(relayer, big, bigApp.account.address, ['summarize'], bigFiles);
    });

    it('the gateway refuses it before queueing: 422 input_too_large naming fileIds', async () => {
      const res = await submit(gw.url, bigApp, {
        operation: 'summarize',
        fileIds: bigFiles,
        parameters: {},
        grantId: bigGrant,
      });
      assert.equal(res.status, 422, await res.clone().text());
      const problem = await problemOf(res);
      assert.equal(problem.code, 'input_too_large');
      assert.deepEqual(
        problem.errors?.map((e) => e.field),
        ['fileIds'],
      );
      assert.equal(await operationCount(big.serverId), 0, 'nothing queued');
    });

    it('the worker refuses it again from recorded sizes: nothing unwrapped or decrypted, failed once, not retried', async () => {
      // As a job queued by an older gateway (or a bug) would reach the worker.
      const id = newId('op');
      const kmsKeyRef = (
        await gw.app
          .get(DataSource)
          .query<Array<{ ref: string }>>(`SELECT kms_key_ref AS ref FROM servers WHERE id = $1`, [
            big.serverId,
          ])
      )[0].ref;
      const seal = await gw.app.get(MetadataSealer).forServer({ id: big.serverId, kmsKeyRef });
      const { operation } = await gw.app.get(OperationRepository).createIdempotent(big.serverId, {
        id,
        apiKeyId: bigApp.keyId,
        appAddress: bigApp.account.address.toLowerCase(),
        operation: 'summarize',
        operationVersion: '1.0.0',
        sealedParameters: seal.seal('operation.parameters', id, '{}'),
        fileIds: bigFiles,
        grantId: bigGrant,
        idempotencyKey: null,
        requestHash: 'test',
      });
      await gw.app.get(OperationQueue).enqueue(big.serverId, operation.id);
      const done = await waitDone(gw.url, bigApp, operation.id, 60_000);
      assert.equal(done.status, 'failed');
      assert.equal(done.error?.code, 'input_too_large');
      assert.match(done.error?.detail ?? '', /18874368 bytes/);
      // No child step ran: no chain check, no key unwrapped, no byte decrypted.
      for (const step of ['chainMs', 'kmsMs', 'decryptMs', 'engineMs'])
        assert.equal(done.timings?.[step], undefined, `${step} in ${JSON.stringify(done.timings)}`);
      const [row] = await db.query<Array<{ attempts: number }>>(
        'SELECT attempts FROM operations WHERE server_id = $1 AND id = $2',
        [big.serverId, operation.id],
      );
      assert.equal(row.attempts, 1, 'a deterministic refusal is not retried');
    });
  });

  describe('bodies nested to overflow the stack', () => {
    it('parameters nested 10,000 deep: 400 naming parameters, never a 500', async () => {
      const body = `{"operation":"summarize","fileIds":["${fileId}"],"grantId":"${grantId}","parameters":${nested(10_000)}}`;
      const res = await fetch(`${gw.url}/v1/operations`, {
        method: 'POST',
        headers: { ...bearer(app.key), 'content-type': 'application/json' },
        body,
      });
      assert.equal(res.status, 400, await res.clone().text());
      const problem = await problemOf(res);
      assert.deepEqual(
        problem.errors?.map((e) => [e.field, e.code]),
        [['parameters', 'too_deep']],
      );
    });

    it('parameters past the operation bounds (33 deep, over 64 KiB): 400 invalid_parameters naming parameters', async () => {
      for (const [parameters, code] of [
        [nested(33), 'too_deep'],
        [JSON.stringify({ question: 'x'.repeat(70_000) }), 'too_large'],
      ] as const) {
        const res = await fetch(`${gw.url}/v1/operations`, {
          method: 'POST',
          headers: { ...bearer(app.key), 'content-type': 'application/json' },
          body: `{"operation":"ask","fileIds":["${fileId}"],"grantId":"${grantId}","parameters":${parameters}}`,
        });
        assert.equal(res.status, 400, await res.clone().text());
        const problem = await problemOf(res);
        assert.equal(problem.code, 'invalid_parameters');
        assert.deepEqual(
          problem.errors?.map((e) => [e.field, e.code]),
          [['parameters', code]],
        );
      }
      assert.equal(await operationCount(tenant.serverId), 0, 'nothing queued');
    });

    it('any JSON route: a body nested past 64 levels is a 400 naming its field', async () => {
      const res = await fetch(`${gw.url}/v1/servers/${tenant.serverId}/api-keys`, {
        method: 'POST',
        headers: { ...bearer(tenant.token), 'content-type': 'application/json' },
        body: `{"name":"k","appAddress":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
      });
      assert.equal(res.status, 400, await res.clone().text());
      assert.deepEqual(
        (await problemOf(res)).errors?.map((e) => [e.field, e.code]),
        [['appAddress', 'too_deep']],
      );
    });
  });

  describe('Content-Encoding', () => {
    const notCompressed = Buffer.from('{"message":"this is not compressed at all"}');
    const routes = (): Array<[string, string, Record<string, string>]> => [
      ['public', `${gw.url}/v1/auth/siwe`, {}],
      ['session', `${gw.url}/v1/servers/${tenant.serverId}/api-keys`, bearer(tenant.token)],
      ['API key', `${gw.url}/v1/operations`, bearer(app.key)],
    ];

    it('a JSON body that is not what its encoding says is a 400 problem on every kind of route', async () => {
      for (const [kind, url, auth] of routes()) {
        for (const encoding of ['gzip', 'deflate', 'br']) {
          const res = await fetch(url, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json', 'content-encoding': encoding },
            body: notCompressed,
          });
          assert.equal(res.status, 400, `${kind} ${encoding}: ${await res.clone().text()}`);
          const problem = await problemOf(res);
          assert.equal(problem.code, 'malformed_json', `${kind} ${encoding}`);
        }
        // A gzip that starts right and then breaks off.
        const truncated = gzipSync(Buffer.from('{"name":"x"}')).subarray(0, 12);
        const res = await fetch(url, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
          body: truncated,
        });
        assert.equal(res.status, 400, `${kind} truncated: ${await res.clone().text()}`);
      }
    });

    it('decodes gzip, deflate and br JSON bodies; refuses another encoding with 415 naming Content-Encoding', async () => {
      const body = Buffer.from(JSON.stringify({ name: 'compressed', appAddress: app.account.address }));
      for (const [encoding, encoded] of [
        ['gzip', gzipSync(body)],
        ['deflate', deflateSync(body)],
        ['br', brotliCompressSync(body)],
      ] as const) {
        const res = await fetch(`${gw.url}/v1/servers/${tenant.serverId}/api-keys`, {
          method: 'POST',
          headers: {
            ...bearer(tenant.token),
            'content-type': 'application/json',
            'content-encoding': encoding,
          },
          body: encoded,
        });
        assert.equal(res.status, 201, `${encoding}: ${await res.clone().text()}`);
      }
      const res = await fetch(`${gw.url}/v1/servers/${tenant.serverId}/api-keys`, {
        method: 'POST',
        headers: { ...bearer(tenant.token), 'content-type': 'application/json', 'content-encoding': 'zstd' },
        body,
      });
      assert.equal(res.status, 415);
      const problem = await problemOf(res);
      assert.equal(problem.code, 'unsupported_content_encoding');
      assert.deepEqual(
        problem.errors?.map((e) => e.field),
        ['Content-Encoding'],
      );
    });

    const upload = (name: string, body: Buffer, encoding: string): Promise<Response> =>
      fetch(`${gw.url}/v1/servers/${tenant.serverId}/files?name=${name}`, {
        method: 'POST',
        headers: { ...bearer(tenant.token), 'content-type': 'text/plain', 'content-encoding': encoding },
        body,
      });
    const fileRows = async (): Promise<number> => {
      const [row] = await db.query<Array<{ n: number }>>(
        `SELECT (SELECT count(*) FROM files WHERE server_id = $1)::int
              + (SELECT count(*) FROM file_chunks WHERE server_id = $1)::int AS n`,
        [tenant.serverId],
      );
      return row.n;
    };

    it('an upload is stored as what its encoding decodes to (gzip, deflate, br), and downloads as such', async () => {
      const plain = Buffer.from(bigText(200_000));
      for (const [encoding, encoded] of [
        ['gzip', gzipSync(plain)],
        ['deflate', deflateSync(plain)],
        ['br', brotliCompressSync(plain)],
      ] as const) {
        const res = await upload(`${encoding}.txt`, encoded, encoding);
        assert.equal(res.status, 201, `${encoding}: ${await res.clone().text()}`);
        const file = (await res.json()) as { id: string; size: number };
        assert.equal(file.size, plain.length, `${encoding}: the decoded size`);
        const content = await fetch(`${gw.url}/v1/servers/${tenant.serverId}/files/${file.id}/content`, {
          headers: bearer(tenant.token),
        });
        assert.ok(Buffer.from(await content.arrayBuffer()).equals(plain), `${encoding}: the decoded bytes`);
      }
    });

    it('an upload that does not decode is a 400 and stores nothing; an unknown encoding is a 415', async () => {
      const before = await fileRows();
      for (const encoding of ['gzip', 'deflate', 'br']) {
        const res = await upload('broken.txt', Buffer.from(bigText(100_000)), encoding);
        assert.equal(res.status, 400, `${encoding}: ${await res.clone().text()}`);
        assert.deepEqual(
          (await problemOf(res)).errors?.map((e) => [e.field, e.code]),
          [['body', 'invalid_encoding']],
        );
      }
      const whole = gzipSync(Buffer.from(bigText(300_000)));
      const cut = await upload('cut.txt', whole.subarray(0, whole.length - 8), 'gzip');
      assert.equal(cut.status, 400, await cut.clone().text());
      const zstd = await upload('z.txt', Buffer.from(TEXT), 'zstd');
      assert.equal(zstd.status, 415);
      assert.equal((await problemOf(zstd)).code, 'unsupported_content_encoding');
      assert.equal(await fileRows(), before, 'no file row and no chunk stored');
    });
  });

  it('HEAD of a file content answers its headers, reads nothing and logs nothing', async () => {
    const before = (await accessLog()).length;
    const url = `${gw.url}/v1/servers/${tenant.serverId}/files/${fileId}/content`;
    const head = await fetch(url, { method: 'HEAD', headers: bearer(tenant.token) });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(TEXT)));
    assert.equal(head.headers.get('content-type'), 'text/plain');
    assert.equal((await head.arrayBuffer()).byteLength, 0);
    assert.equal((await accessLog()).length, before, 'a HEAD writes no access-log row');
    // Same access rule as a download: another tenant gets 404, no session 401.
    const stranger = await newTenant(gw.url);
    assert.equal((await fetch(url, { method: 'HEAD', headers: bearer(stranger.token) })).status, 404);
    assert.equal((await fetch(url, { method: 'HEAD' })).status, 401);
    // A GET still reads, and is logged.
    const get = await fetch(url, { headers: bearer(tenant.token) });
    assert.equal(await get.text(), TEXT);
    // The read's row is written beside the first byte, not before it: it lands within moments.
    let rows = await accessLog();
    for (let i = 0; i < 50 && rows.length < before + 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      rows = await accessLog();
    }
    assert.equal(rows.length, before + 1);
    assert.equal(rows[0].outcome, 'read');
  });

  it('the receipt covers the parameters: parametersHash is keccak256 of their canonical JSON, signed', async () => {
    const parameters = {
      quotes: 2,
      quoteChars: 300,
      retrieval: 'hybrid',
      question: 'When did the fishing boats come back?',
    };
    const res = await submit(gw.url, app, { operation: 'ask', fileIds: [fileId], parameters, grantId });
    assert.equal(res.status, 202, await res.clone().text());
    const done = await waitDone(gw.url, app, (await json<{ id: string }>(res)).id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    const receipt = done.receipt!;
    const typedData = receipt.typedData as unknown as Parameters<typeof verifyTypedData>[0] & {
      message: Record<string, string>;
    };
    // What the app computes on its own from what it sent (every parameter given, so no default is filled in).
    const expected = keccak256(stringToHex(canonicalJson(parameters)));
    assert.equal(typedData.message.parametersHash, expected);
    assert.ok(
      (receipt.typedData.types as Record<string, Array<{ name: string }>>).Receipt.some(
        (f) => f.name === 'parametersHash',
      ),
    );
    const verify = (message: Record<string, string>) =>
      verifyTypedData({ ...typedData, message, address: tenant.serverAddress, signature: receipt.signature });
    assert.equal(await verify(typedData.message), true);
    // A receipt claiming other parameters (another question) does not verify.
    const otherQuestion = keccak256(stringToHex(canonicalJson({ ...parameters, question: 'Who is ill?' })));
    assert.equal(await verify({ ...typedData.message, parametersHash: otherQuestion }), false);
  });

  describe('refusals leave a row in the access log', () => {
    it('operation not granted, file not granted, revoked grant, key allowlist: the app and the reason, no data', async () => {
      const marker = `marker-${Date.now()}`;
      const other = await uploadText(gw.url, tenant, 'other.txt', TEXT);
      const narrow = await newApp(gw.url, tenant, { operations: ['summarize'] });
      const narrowGrant = await grant(
        relayer,
        tenant,
        narrow.account.address,
        ['summarize', 'ask'],
        [fileId],
      );
      const revoked = await grant(relayer, tenant, app.account.address, ['ask'], [fileId, other]);
      await revoke(relayer, tenant, revoked);
      const ask = { question: `What is ${marker}?` };
      const attempts: Array<[App, Record<string, unknown>, string, string[]]> = [
        // keywords is not in the grant
        [
          app,
          { operation: 'keywords', fileIds: [fileId], parameters: {}, grantId },
          'operation_not_granted',
          [fileId],
        ],
        // other.txt is not in the grant
        [app, { operation: 'ask', fileIds: [other], parameters: ask, grantId }, 'file_not_granted', [other]],
        [
          app,
          { operation: 'ask', fileIds: [fileId, other], parameters: ask, grantId: revoked },
          'grant_revoked',
          [fileId, other],
        ],
        // the key may run summarize only
        [
          narrow,
          { operation: 'ask', fileIds: [fileId], parameters: ask, grantId: narrowGrant },
          'operation_not_allowed',
          [fileId],
        ],
      ];
      for (const [who, body, code, fileIds] of attempts) {
        const res = await submit(gw.url, who, body);
        assert.equal(res.status, 403, `${code}: ${await res.clone().text()}`);
        const [row] = await accessLog('?outcome=denied&limit=1');
        assert.equal(row.outcome, 'denied');
        assert.equal(row.code, code);
        assert.equal(row.actor, who.account.address);
        assert.equal(row.apiKeyId, who.keyId);
        assert.equal(row.operation, body.operation);
        assert.deepEqual(row.fileIds, fileIds);
        assert.equal(row.receipt, null);
      }
      const denied = await accessLog('?outcome=denied');
      assert.equal(denied.length, attempts.length);
      assert.doesNotMatch(JSON.stringify(await accessLog()), new RegExp(marker), 'no parameter is logged');
      const allowed = await accessLog('?outcome=allowed');
      assert.ok(allowed.length > 0);
      assert.ok(allowed.every((r) => r.outcome !== 'denied'));
      const bad = await fetch(`${gw.url}/v1/servers/${tenant.serverId}/access-log?outcome=maybe`, {
        headers: bearer(tenant.token),
      });
      assert.equal(bad.status, 400);
      assert.deepEqual(
        (await problemOf(bad)).errors?.map((e) => e.field),
        ['query.outcome'],
      );
    });

    it("a refused request naming only another server's files leaves no row on either", async () => {
      const stranger = await newTenant(gw.url);
      const theirs = await uploadText(gw.url, stranger, 'theirs.txt', TEXT);
      const before = (await accessLog('?outcome=denied')).length;
      const narrow = await newApp(gw.url, tenant, { operations: ['summarize'] });
      const res = await submit(gw.url, narrow, {
        operation: 'ask',
        fileIds: [theirs],
        parameters: {},
        grantId,
      });
      assert.equal(res.status, 403);
      assert.equal((await accessLog('?outcome=denied')).length, before);
    });
  });
});
