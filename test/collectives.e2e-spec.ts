import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { identityKeyContext } from '@hearth/blobs';
import { decryptEnvelope, encryptEnvelope, ENVELOPE_CONTENT_TYPE } from '@hearth/crypto';
import { fileKeyContext, isKeyManagerError, type KeyManager } from '@hearth/kms';
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';
import { OperationRepository } from '@hearth/db';
import { OperationQueue } from '@hearth/queue';
import { DataSource } from 'typeorm';
import { KEY_MANAGER } from '../apps/gateway/src/keys/keys.module';
import {
  problemOf,
  type RunningGateway,
  type RunningWorker,
  startGateway,
  startWorker,
} from './support/apps';
import { type App, json, submit, waitDone } from './support/flow';
import { bearer, signIn, type SignedIn } from './support/siwe';

/** Journals sharing vocabulary, so top_keywords has terms used by at least k contributors. */
const JOURNALS = [
  'Today the weather was wonderful and I walked in the park with friends. I felt happy and grateful.',
  'Work was stressful today, the project deadline moved again. I walked in the park to relax with friends.',
  'A calm day. I read a book in the park and had coffee with friends. The weather was lovely.',
  'Terrible commute, the train was late and work was exhausting. Later friends cheered me up in the park.',
  'I cooked dinner for friends and we talked about work and travel. The park near home was quiet.',
  'Rainy weather all day. I stayed home, called friends, and planned a walk in the park for the weekend.',
];

interface Member extends SignedIn {
  fileId?: string;
}

describe('data collectives', () => {
  let gw: RunningGateway;
  let worker: RunningWorker;
  let db: DataSource;
  let kms: KeyManager;
  let admin: SignedIn;
  let stranger: SignedIn;
  let members: Member[];
  let collectiveId: string;
  let whitelistAddress: string;
  let appIn: App;
  let appOut: App;

  const url = (path: string) => `${gw.url}/v1/servers/${collectiveId}${path}`;
  const post = (token: string, path: string, body: unknown) =>
    fetch(url(path), {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  async function createApp(token: string, account: PrivateKeyAccount): Promise<App> {
    const res = await post(token, '/api-keys', { name: 'collective app', appAddress: account.address });
    const body = await json<{ id: string; key: string }>(res);
    return { account, keyId: body.id, key: body.key };
  }

  async function whitelist(app: `0x${string}`, action: 'add' | 'remove'): Promise<void> {
    const { typedData } = await json<{ typedData: Record<string, unknown> }>(
      await post(admin.token, '/whitelist/typed-data', { app, action }),
    );
    const signature = await admin.account.signTypedData(
      typedData as unknown as Parameters<PrivateKeyAccount['signTypedData']>[0],
    );
    const relayed = await post(admin.token, '/whitelist', { typedData, signature });
    assert.equal(relayed.status, 201, await relayed.clone().text());
    assert.match(((await relayed.json()) as { txHash: string }).txHash, /^0x[0-9a-f]{64}$/);
  }

  before(async () => {
    gw = await startGateway();
    worker = await startWorker();
    db = gw.app.get(DataSource);
    kms = gw.app.get<KeyManager>(KEY_MANAGER);
    [admin, stranger, ...members] = await Promise.all(Array.from({ length: 8 }, () => signIn(gw.url)));
    const res = await fetch(`${gw.url}/v1/servers`, {
      method: 'POST',
      headers: { ...bearer(admin.token), 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'collective', name: 'Journal circle' }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const server = (await res.json()) as {
      id: string;
      kind: string;
      policy: { kind: string; address: string };
      owner: string;
    };
    collectiveId = server.id;
    whitelistAddress = server.policy.address;
    appIn = await createApp(admin.token, privateKeyToAccount(generatePrivateKey()));
    appOut = await createApp(admin.token, privateKeyToAccount(generatePrivateKey()));
  });
  after(async () => {
    await worker.close();
    await gw.close();
  });

  it('creates a collective: its own identity, a Whitelist owned by the creator, k = 5, the creator as admin', async () => {
    const server = await json<{
      kind: string;
      owner: string;
      address: string;
      policy: { kind: string; address: string };
    }>(await fetch(url(''), { headers: bearer(admin.token) }));
    assert.equal(server.kind, 'collective');
    assert.equal(server.owner, admin.address);
    assert.equal(server.policy.kind, 'whitelist');
    assert.match(server.policy.address, /^0x[0-9a-fA-F]{40}$/);
    const row = await db.query<
      Array<{
        k_threshold: number;
        kms_key_ref: string;
        address: string;
      }>
    >(`SELECT k_threshold, kms_key_ref, address FROM servers WHERE id = $1`, [collectiveId]);
    assert.equal(row[0].k_threshold, 5);
    const personal = await db.query<
      Array<{
        kms_key_ref: string;
        address: string;
      }>
    >(`SELECT kms_key_ref, address FROM servers WHERE id = $1`, [admin.serverId]);
    assert.notEqual(row[0].kms_key_ref, personal[0].kms_key_ref, 'a key of its own');
    assert.notEqual(row[0].address, personal[0].address, 'an identity of its own');
    const list = await json<{ items: Array<{ address: string; role: string }> }>(
      await fetch(url('/members'), { headers: bearer(admin.token) }),
    );
    assert.deepEqual(
      list.items.map((m) => [m.address, m.role]),
      [[admin.address, 'admin']],
    );
  });

  it('refuses bad creation input naming the field, and writes nothing', async () => {
    const before = await db.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM servers WHERE owner_account_id = (SELECT id FROM accounts WHERE address = $1)`,
      [admin.address.toLowerCase()],
    );
    const cases: Array<[unknown, string]> = [
      [{ kind: 'personal', name: 'x' }, 'kind'],
      [{ kind: 'collective', name: 'x', k: 1 }, 'k'],
      [{ kind: 'collective', name: 'x', k: 1001 }, 'k'],
      [{ kind: 'collective', name: '' }, 'name'],
      [{ kind: 'collective', name: 'x', color: 'red' }, 'color'],
    ];
    for (const [body, field] of cases) {
      const res = await fetch(`${gw.url}/v1/servers`, {
        method: 'POST',
        headers: { ...bearer(admin.token), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 400, JSON.stringify(body));
      const p = await problemOf(res);
      assert.ok(
        p.errors?.some((e) => e.field === field),
        `${JSON.stringify(body)} → ${JSON.stringify(p.errors)}`,
      );
    }
    const afterCount = await db.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM servers WHERE owner_account_id = (SELECT id FROM accounts WHERE address = $1)`,
      [admin.address.toLowerCase()],
    );
    assert.equal(afterCount[0].n, before[0].n);
  });

  it('admits members (admins only); duplicates 409, non-admins 403, strangers 404, bad input 400 with no row', async () => {
    for (const m of members) {
      const res = await post(admin.token, '/members', { address: m.address.toLowerCase(), role: 'member' });
      assert.equal(res.status, 201, await res.clone().text());
      const view = (await res.json()) as { id: string; address: string; role: string };
      assert.match(view.id, /^mem_/);
      assert.equal(view.address, m.address);
    }
    const dup = await post(admin.token, '/members', { address: members[0].address, role: 'admin' });
    assert.equal(dup.status, 409);
    assert.equal((await problemOf(dup)).code, 'member_exists');

    const byMember = await post(members[0].token, '/members', { address: stranger.address, role: 'member' });
    assert.equal(byMember.status, 403);
    assert.equal((await problemOf(byMember)).code, 'forbidden');
    const byStranger = await post(stranger.token, '/members', { address: stranger.address, role: 'member' });
    assert.equal(byStranger.status, 404);
    assert.equal((await fetch(url('/members'), { headers: bearer(stranger.token) })).status, 404);

    const count = async () =>
      (
        await db.query<Array<{ n: number }>>(
          `SELECT count(*)::int AS n FROM server_members WHERE server_id = $1`,
          [collectiveId],
        )
      )[0].n;
    const before = await count();
    const bad: Array<[unknown, string]> = [
      [{ address: '0x1234', role: 'member' }, 'address'],
      [{ address: stranger.address, role: 'owner' }, 'role'],
      [{ address: stranger.address, role: 'member', note: 'hi' }, 'note'],
      [{ role: 'member' }, 'address'],
    ];
    for (const [body, field] of bad) {
      const res = await post(admin.token, '/members', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const p = await problemOf(res);
      assert.ok(
        p.errors?.some((e) => e.field === field),
        `${JSON.stringify(body)} → ${JSON.stringify(p.errors)}`,
      );
    }
    assert.equal(await count(), before);

    const list = await json<{ items: Array<{ address: string }>; nextCursor: string | null }>(
      await fetch(url('/members?limit=4'), { headers: bearer(members[3].token) }),
    );
    assert.equal(list.items.length, 4);
    assert.ok(list.nextCursor);
    const rest = await json<{ items: Array<{ address: string }>; nextCursor: string | null }>(
      await fetch(url(`/members?limit=4&cursor=${list.nextCursor}`), { headers: bearer(members[3].token) }),
    );
    assert.equal(rest.items.length, 3);
    assert.equal(rest.nextCursor, null);
    const keyRefs = await db.query<Array<{ kms_key_ref: string | null }>>(
      `SELECT kms_key_ref FROM server_members WHERE server_id = $1`,
      [collectiveId],
    );
    assert.equal(new Set(keyRefs.map((r) => r.kms_key_ref)).size, 7, 'every member has a key of their own');
    assert.ok(keyRefs.every((r) => r.kms_key_ref));
  });

  it('members contribute under their own keys and read back only their own; non-members get 404', async () => {
    await Promise.all(
      members.map(async (m, i) => {
        const res = await fetch(url(`/files?name=journal-${i}.txt`), {
          method: 'POST',
          headers: { ...bearer(m.token), 'content-type': 'text/plain' },
          body: JOURNALS[i],
        });
        assert.equal(res.status, 201, await res.clone().text());
        const view = (await res.json()) as { id: string; contributor: string };
        assert.equal(view.contributor, m.address);
        m.fileId = view.id;
      }),
    );
    const rows = await db.query<Array<{ file_ref: string; member_ref: string }>>(
      `SELECT f.id, f.kms_key_ref AS file_ref, m.kms_key_ref AS member_ref FROM files f JOIN server_members m ON m.server_id = f.server_id AND m.address = f.contributor_address WHERE f.server_id = $1`,
      [collectiveId],
    );
    assert.equal(rows.length, 6);
    assert.ok(
      rows.every((r) => r.file_ref === r.member_ref),
      'each file is wrapped under its contributor key',
    );

    const mine = await json<{ items: Array<{ id: string }> }>(
      await fetch(url('/files'), { headers: bearer(members[0].token) }),
    );
    assert.deepEqual(
      mine.items.map((f) => f.id),
      [members[0].fileId],
    );
    const own = await fetch(url(`/files/${members[0].fileId}/content`), {
      headers: bearer(members[0].token),
    });
    assert.equal(own.status, 200);
    assert.equal(await own.text(), JOURNALS[0]);
    const other = await fetch(url(`/files/${members[1].fileId}/content`), {
      headers: bearer(members[0].token),
    });
    assert.equal(other.status, 404);
    const upload = await fetch(url('/files?name=x.txt'), {
      method: 'POST',
      headers: { ...bearer(stranger.token), 'content-type': 'text/plain' },
      body: 'not a member',
    });
    assert.equal(upload.status, 404);
    assert.equal(
      (await fetch(url(`/files/${members[0].fileId}`), { headers: bearer(stranger.token) })).status,
      404,
    );
  });

  it("the creator (an admin) and other members never read, name or delete a member's contribution: 404; admins see per-member counts and sizes", async () => {
    const target = members[1];
    for (const reader of [admin, members[0]]) {
      const who = reader === admin ? 'the creator' : 'another member';
      const content = await fetch(url(`/files/${target.fileId}/content`), { headers: bearer(reader.token) });
      assert.equal(content.status, 404, `${who} downloads a member's contribution`);
      assert.equal((await problemOf(content)).code, 'not_found');
      const head = await fetch(url(`/files/${target.fileId}`), { headers: bearer(reader.token) });
      assert.equal(head.status, 404, `${who} reads its name`);
      const listed = await json<{ items: Array<{ id: string; name: string }> }>(
        await fetch(url('/files?limit=200'), { headers: bearer(reader.token) }),
      );
      assert.ok(!listed.items.some((f) => f.id === target.fileId), `${who} lists it`);
      const del = await fetch(url(`/files/${target.fileId}`), {
        method: 'DELETE',
        headers: bearer(reader.token),
      });
      assert.equal(del.status, 404, `${who} deletes it`);
    }
    assert.equal(
      (await json<{ items: unknown[] }>(await fetch(url('/files'), { headers: bearer(admin.token) }))).items
        .length,
      0,
      'the creator contributed nothing, so lists nothing',
    );
    const own = await fetch(url(`/files/${target.fileId}/content`), { headers: bearer(target.token) });
    assert.equal(own.status, 200, 'the contributor still reads it');
    assert.equal(await own.text(), JOURNALS[1]);
    const roster = await json<{
      items: Array<{ address: string; contributions: { files: number; bytes: string } }>;
    }>(await fetch(url('/members?limit=200'), { headers: bearer(admin.token) }));
    const row = roster.items.find((m) => m.address === target.address)!;
    assert.deepEqual(row.contributions, {
      files: 1,
      bytes: String(Buffer.byteLength(JOURNALS[1])),
    });
    assert.deepEqual(roster.items.find((m) => m.address === admin.address)!.contributions, {
      files: 0,
      bytes: '0',
    });
    assert.ok(!JSON.stringify(roster).includes('journal-'), 'no file names in the roster');
  });

  it('whitelist changes: admins get typed data for the owner to sign; the platform relays it', async () => {
    const byMember = await post(members[0].token, '/whitelist/typed-data', {
      app: appIn.account.address,
      action: 'add',
    });
    assert.equal(byMember.status, 403);
    const bad = await post(admin.token, '/whitelist/typed-data', { app: 'nope', action: 'promote' });
    assert.equal(bad.status, 400);
    const fields = (await problemOf(bad)).errors?.map((e) => e.field).sort();
    assert.deepEqual(fields, ['action', 'app']);
    const { typedData } = await json<{
      typedData: { domain: { verifyingContract: string }; message: { owner: string } };
    }>(await post(admin.token, '/whitelist/typed-data', { app: appIn.account.address, action: 'add' }));
    assert.equal(typedData.domain.verifyingContract, whitelistAddress);
    assert.equal(typedData.message.owner, admin.address);
    await whitelist(appIn.account.address, 'add');
  });

  it('runs aggregate operations over the six contributors for a whitelisted app', async () => {
    const fileIds = members.map((m) => m.fileId!);
    const sent = await submit(gw.url, appIn, {
      operation: 'sentiment_distribution',
      fileIds,
      parameters: {},
    });
    assert.equal(sent.status, 202, await sent.clone().text());
    const s = await waitDone(gw.url, appIn, ((await sent.json()) as { id: string }).id);
    assert.equal(s.status, 'succeeded', JSON.stringify(s.error));
    const sr = s.result as {
      totals: { documents: number; contributors: number };
      contributors: Record<string, number>;
    };
    assert.deepEqual(sr.totals, { documents: 6, contributors: 6 });
    assert.equal(
      Object.values(sr.contributors).reduce((a, b) => a + b, 0),
      6,
    );

    const kw = await submit(gw.url, appIn, { operation: 'top_keywords', fileIds, parameters: { top: 5 } });
    assert.equal(kw.status, 202, await kw.clone().text());
    const k = await waitDone(gw.url, appIn, ((await kw.json()) as { id: string }).id);
    assert.equal(k.status, 'succeeded', JSON.stringify(k.error));
    const kr = k.result as {
      keywords: Array<{ term: string; contributors: number }>;
      totals: { contributors: number };
    };
    assert.equal(kr.totals.contributors, 6);
    assert.ok(kr.keywords.length > 0);
    assert.ok(kr.keywords.every((t) => t.contributors >= 5));
  });

  it('refuses a non-whitelisted app (not_authorized) and per-person operations (operation_not_allowed)', async () => {
    const fileIds = members.map((m) => m.fileId!);
    const out = await submit(gw.url, appOut, { operation: 'counts', fileIds, parameters: {} });
    assert.equal(out.status, 403);
    const p = await problemOf(out);
    assert.equal(p.code, 'permission_denied');
    assert.ok(p.errors?.some((e) => e.code === 'not_authorized'));

    const summarize = await submit(gw.url, appIn, { operation: 'summarize', fileIds, parameters: {} });
    assert.equal(summarize.status, 403);
    const sp = await problemOf(summarize);
    assert.equal(sp.code, 'operation_not_allowed');
    assert.ok(sp.errors?.some((e) => e.field === 'operation'));
    const queued = await db.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM operations WHERE server_id = $1 AND operation = 'summarize'`,
      [collectiveId],
    );
    assert.equal(queued[0].n, 0, 'nothing queued');
  });

  /** Bypasses the gateway's checks, as a job queued by an older gateway (or a bug) would reach the worker. */
  async function queueDirect(app: App, operation: string, fileIds: string[]): Promise<string> {
    const { operation: op } = await gw.app.get(OperationRepository).createIdempotent(collectiveId, {
      apiKeyId: app.keyId,
      appAddress: app.account.address.toLowerCase(),
      operation,
      operationVersion: '1',
      parameters: {},
      fileIds,
      grantId: null,
      idempotencyKey: null,
      requestHash: 'test',
    });
    await gw.app.get(OperationQueue).enqueue(collectiveId, op.id);
    return op.id;
  }

  it('the worker enforces it again: a per-person operation, or a non-whitelisted app, that reaches it is denied', async () => {
    const fileIds = members.map((m) => m.fileId!);
    const perPerson = await waitDone(gw.url, appIn, await queueDirect(appIn, 'summarize', fileIds));
    assert.equal(perPerson.status, 'denied');
    assert.equal(perPerson.error?.code, 'operation_not_allowed');
    assert.equal(perPerson.result, undefined);
    const outsider = await waitDone(gw.url, appOut, await queueDirect(appOut, 'counts', fileIds));
    assert.equal(outsider.status, 'denied');
    assert.equal(outsider.error?.code, 'not_authorized');
    assert.equal(outsider.result, undefined);
  });

  it('releases nothing below k distinct contributors: denied with below_k_threshold', async () => {
    const fileIds = members.slice(0, 4).map((m) => m.fileId!);
    const res = await submit(gw.url, appIn, { operation: 'counts', fileIds, parameters: {} });
    assert.equal(res.status, 202, await res.clone().text());
    const done = await waitDone(gw.url, appIn, ((await res.json()) as { id: string }).id);
    assert.equal(done.status, 'denied');
    assert.equal(done.error?.code, 'below_k_threshold');
    assert.equal(done.result, undefined);
  });

  it('an app removed from the whitelist on-chain is refused at once', async () => {
    await whitelist(appIn.account.address, 'remove');
    const res = await submit(gw.url, appIn, {
      operation: 'counts',
      fileIds: members.map((m) => m.fileId!),
      parameters: {},
    });
    assert.equal(res.status, 403);
    assert.ok((await problemOf(res)).errors?.some((e) => e.code === 'not_authorized'));
    await whitelist(appIn.account.address, 'add');
  });

  it('access log: admins see every operation; a member sees the rows touching their contributions', async () => {
    type Log = {
      items: Array<{ operation: string | null; fileIds: string[]; outcome: string; code: string | null }>;
    };
    const all = await json<Log>(await fetch(url('/access-log?limit=200'), { headers: bearer(admin.token) }));
    const ops = (l: Log) =>
      l.items
        .filter((r) => r.operation !== 'download')
        .map((r) => `${r.operation}:${r.outcome}`)
        .sort();
    assert.deepEqual(ops(all), [
      'counts:denied',
      'counts:denied',
      'sentiment_distribution:succeeded',
      'summarize:denied',
      'top_keywords:succeeded',
    ]);
    const fifth = await json<Log>(
      await fetch(url('/access-log?limit=200'), { headers: bearer(members[4].token) }),
    );
    assert.deepEqual(
      ops(fifth),
      ['counts:denied', 'sentiment_distribution:succeeded', 'summarize:denied', 'top_keywords:succeeded'],
      'not the run without their file',
    );
    const first = await json<Log>(
      await fetch(url('/access-log?limit=200'), { headers: bearer(members[0].token) }),
    );
    assert.deepEqual(ops(first), ops(all));
    assert.ok(
      first.items.some((r) => r.operation === 'download'),
      'their own read',
    );
    assert.ok(!fifth.items.some((r) => r.operation === 'download'), "not another member's read");
    assert.equal((await fetch(url('/access-log'), { headers: bearer(stranger.token) })).status, 404);
  });

  it("crypto-shred: a backup of a removed member's chunk rows and wrapped keys opens with no key that remains, client envelopes included", async () => {
    const gone = members[5];
    const { publicKey } = await json<{ publicKey: string }>(
      await fetch(url(''), { headers: bearer(gone.token) }),
    );
    const secret = 'sealed on the client, meant to die with its member';
    const sent = await fetch(url('/files?name=envelope.bin'), {
      method: 'POST',
      headers: { ...bearer(gone.token), 'content-type': ENVELOPE_CONTENT_TYPE },
      body: encryptEnvelope(publicKey, Buffer.from(secret)),
    });
    assert.equal(sent.status, 201, await sent.clone().text());
    const envelopeId = ((await sent.json()) as { id: string }).id;
    const back = await fetch(url(`/files/${envelopeId}/content`), { headers: bearer(gone.token) });
    assert.equal(back.status, 200);
    const [server] = await db.query<Array<{ kms_key_ref: string; wrapped_identity_key: Buffer }>>(
      `SELECT kms_key_ref, wrapped_identity_key FROM servers WHERE id = $1`,
      [collectiveId],
    );
    const identityKey = await kms.decrypt(
      server.kms_key_ref,
      server.wrapped_identity_key,
      identityKeyContext(collectiveId),
    );
    assert.equal(
      decryptEnvelope(identityKey, Buffer.from(await back.arrayBuffer())).toString(),
      secret,
      'the contributor gets their envelope back as sent',
    );

    // The backup: every chunk row and wrapped key of the member's contributions.
    const backup = await db.query<
      Array<{ id: string; encryption: string; wrapped_data_key: Buffer | null; chunks: Buffer[] }>
    >(
      `SELECT f.id, f.encryption, f.wrapped_data_key,
              array(SELECT c.data FROM file_chunks c WHERE c.file_id = f.id ORDER BY c.seq) AS chunks
         FROM files f WHERE f.server_id = $1 AND f.contributor_address = $2`,
      [collectiveId, gone.address.toLowerCase()],
    );
    assert.deepEqual(backup.map((f) => f.encryption).sort(), ['client', 'server']);

    const res = await fetch(url(`/members/${gone.address}`), { method: 'DELETE', headers: bearer(admin.token) });
    assert.equal(res.status, 204, await res.clone().text());

    const remaining = [
      server.kms_key_ref,
      ...(
        await db.query<Array<{ kms_key_ref: string }>>(
          `SELECT kms_key_ref FROM server_members WHERE server_id = $1`,
          [collectiveId],
        )
      ).map((r) => r.kms_key_ref),
    ];
    assert.equal(remaining.length, 7, 'the tenant key and six members left');
    for (const file of backup) {
      assert.ok(file.wrapped_data_key, `${file.encryption} file ${file.id} carries a wrapped data key`);
      for (const ref of remaining) {
        await assert.rejects(
          kms.unwrapDataKey(ref, file.wrapped_data_key, fileKeyContext(collectiveId, file.id)),
          `${ref} opens ${file.id}`,
        );
      }
      // The identity key opens envelopes: the stored bytes are no envelope any more.
      assert.throws(() => decryptEnvelope(identityKey, Buffer.concat(file.chunks)));
      for (const chunk of file.chunks) assert.ok(!chunk.includes(Buffer.from('meant to die')));
    }
    identityKey.fill(0);
  });

  it('removing a member deletes their files and destroys their key (crypto-shredding)', async () => {
    const gone = members[3];
    const [file] = await db.query<
      Array<{
        id: string;
        wrapped_data_key: Buffer;
        kms_key_ref: string;
      }>
    >(`SELECT id, wrapped_data_key, kms_key_ref FROM files WHERE id = $1`, [gone.fileId]);
    // The key works before removal.
    (
      await kms.unwrapDataKey(file.kms_key_ref, file.wrapped_data_key, fileKeyContext(collectiveId, file.id))
    ).fill(0);

    const notAdmin = await fetch(url(`/members/${gone.address}`), {
      method: 'DELETE',
      headers: bearer(members[0].token),
    });
    assert.equal(notAdmin.status, 403);
    const byStranger = await fetch(url(`/members/${gone.address}`), {
      method: 'DELETE',
      headers: bearer(stranger.token),
    });
    assert.equal(byStranger.status, 404);

    const res = await fetch(url(`/members/${gone.address.toLowerCase()}`), {
      method: 'DELETE',
      headers: bearer(admin.token),
    });
    assert.equal(res.status, 204, await res.clone().text());
    const rows = await db.query<
      Array<{
        n: number;
      }>
    >(`SELECT count(*)::int AS n FROM files WHERE id = $1`, [file.id]);
    assert.equal(rows[0].n, 0);
    const chunks = await db.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM file_chunks WHERE file_id = $1`,
      [file.id],
    );
    assert.equal(chunks[0].n, 0);
    await assert.rejects(
      kms.unwrapDataKey(file.kms_key_ref, file.wrapped_data_key, fileKeyContext(collectiveId, file.id)),
      (err: unknown) => isKeyManagerError(err, 'key_destroyed'),
    );
    assert.equal(
      (await fetch(url('/files'), { headers: bearer(gone.token) })).status,
      404,
      'no longer a member',
    );
    const again = await fetch(url(`/members/${gone.address}`), {
      method: 'DELETE',
      headers: bearer(admin.token),
    });
    assert.equal(again.status, 404);

    // A member may leave on their own.
    const leaver = members[4];
    const left = await fetch(url(`/members/${leaver.address}`), {
      method: 'DELETE',
      headers: bearer(leaver.token),
    });
    assert.equal(left.status, 204);
    const list = await json<{ items: Array<{ address: string }> }>(
      await fetch(url('/members'), { headers: bearer(admin.token) }),
    );
    assert.equal(list.items.length, 4);
    // The creator owns the Whitelist and cannot be removed.
    const owner = await fetch(url(`/members/${admin.address}`), {
      method: 'DELETE',
      headers: bearer(admin.token),
    });
    assert.equal(owner.status, 409);
  });

  it('deleting the collective destroys every member key as well as the tenant key', async () => {
    const [file] = await db.query<Array<{ id: string; wrapped_data_key: Buffer; kms_key_ref: string }>>(
      `SELECT id, wrapped_data_key, kms_key_ref FROM files WHERE id = $1`,
      [members[0].fileId],
    );
    const res = await fetch(url(''), { method: 'DELETE', headers: bearer(admin.token) });
    assert.equal(res.status, 204, await res.clone().text());
    await assert.rejects(
      kms.unwrapDataKey(file.kms_key_ref, file.wrapped_data_key, fileKeyContext(collectiveId, file.id)),
      (err: unknown) => isKeyManagerError(err, 'key_destroyed'),
    );
    const left = await db.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM server_members WHERE server_id = $1`,
      [collectiveId],
    );
    assert.equal(left[0].n, 0);
  });
});
