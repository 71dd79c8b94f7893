import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { identityKeyContext } from '@hearth/blobs';
import { decryptEnvelope, encryptEnvelope, ENVELOPE_CONTENT_TYPE } from '@hearth/crypto';
import { fileKeyContext, isKeyManagerError, type KeyManager } from '@hearth/kms';
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';
import { OperationRepository } from '@hearth/db';
import { OperationQueue } from '@hearth/queue';
import { DataSource } from 'typeorm';
import { newId } from '@hearth/ids';
import { KEY_MANAGER } from '../apps/gateway/src/keys/keys.module';
import { MetadataSealer } from '../apps/gateway/src/keys/metadata-sealer';
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

interface Dataset {
  id: string;
  version: number;
  files: number;
  contributors: number;
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
  let firstDataset: Dataset;
  /** Exact counts over all six contributions (before any noise). */
  let exactCounts: Record<string, number>;

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
    const contribute = (group: Member[], offset: number) =>
      Promise.all(
        group.map(async (m, j) => {
          const i = offset + j;
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
    // Four contribute, an admin freezes that set as dataset v1, then two more contribute.
    await contribute(members.slice(0, 4), 0);
    const byMember = await fetch(url('/datasets'), { method: 'POST', headers: bearer(members[0].token) });
    assert.equal(byMember.status, 403, 'members do not publish datasets');
    const published = await fetch(url('/datasets'), { method: 'POST', headers: bearer(admin.token) });
    assert.equal(published.status, 201, await published.clone().text());
    firstDataset = (await published.json()) as Dataset;
    assert.match(firstDataset.id, /^dst_[0-9a-f]{32}$/);
    assert.deepEqual(
      { version: firstDataset.version, files: firstDataset.files, contributors: firstDataset.contributors },
      { version: 1, files: 4, contributors: 4 },
    );
    await contribute(members.slice(4), 4);
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

  it('runs aggregate operations over all six contributions for a whitelisted app (it names no files)', async () => {
    const sent = await submit(gw.url, appIn, {
      operation: 'sentiment_distribution',
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

    assert.deepEqual(
      [...(s.fileIds ?? [])].sort(),
      members.map((m) => m.fileId!).sort(),
      'it ran over the whole set',
    );
    const kw = await submit(gw.url, appIn, { operation: 'top_keywords', parameters: { top: 5 } });
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

  it('the differencing attack ({all} minus {all but one}, k = 5) is refused: an app cannot pick the file set', async () => {
    const all = await submit(gw.url, appIn, { operation: 'counts', parameters: {} });
    assert.equal(all.status, 202, await all.clone().text());
    const whole = await waitDone(gw.url, appIn, ((await all.json()) as { id: string }).id);
    assert.equal(whole.status, 'succeeded', JSON.stringify(whole.error));
    exactCounts = whole.result as Record<string, number>;
    assert.equal(exactCounts.contributors, 6);

    const before = await db.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM operations WHERE server_id = $1`,
      [collectiveId],
    );
    const allButOne = members.slice(0, 5).map((m) => m.fileId!);
    for (const fileIds of [allButOne, members.map((m) => m.fileId!)]) {
      const res = await submit(gw.url, appIn, { operation: 'counts', fileIds, parameters: {} });
      assert.equal(res.status, 400, `${fileIds.length} files named`);
      const p = await problemOf(res);
      assert.equal(p.code, 'file_selection_not_allowed');
      assert.ok(p.errors?.some((e) => e.field === 'fileIds'));
    }
    const after = await db.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM operations WHERE server_id = $1`,
      [collectiveId],
    );
    assert.equal(after[0].n, before[0].n, 'nothing queued');

    // Past the gateway (an older gateway, a bug): the worker refuses a chosen set too, and releases nothing.
    const direct = await waitDone(gw.url, appIn, await queueDirect(appIn, 'counts', allButOne));
    assert.equal(direct.status, 'denied');
    assert.equal(direct.error?.code, 'file_selection_not_allowed');
    assert.equal(direct.result, undefined);

    // The only other set is a dataset an admin froze: the same for every app, whatever it asks for.
    const frozen = await submit(gw.url, appIn, {
      operation: 'counts',
      datasetId: firstDataset.id,
      parameters: {},
    });
    assert.equal(frozen.status, 202, await frozen.clone().text());
    const unknown = await submit(gw.url, appIn, {
      operation: 'counts',
      datasetId: `dst_${'0'.repeat(32)}`,
      parameters: {},
    });
    assert.equal(unknown.status, 404);
    assert.ok((await problemOf(unknown)).errors?.some((e) => e.field === 'datasetId'));
    const listed = await json<{ items: Dataset[] }>(
      await fetch(url('/datasets'), { headers: bearer(members[2].token) }),
    );
    assert.deepEqual(
      listed.items.map((d) => d.id),
      [firstDataset.id],
    );
    const frozenDone = await waitDone(gw.url, appIn, ((await frozen.json()) as { id: string }).id);
    assert.equal(frozenDone.status, 'denied', 'four contributors are below k');
    assert.equal(frozenDone.error?.code, 'below_k_threshold');
    assert.deepEqual(
      [...(frozenDone.fileIds ?? [])].sort(),
      members
        .slice(0, 4)
        .map((m) => m.fileId!)
        .sort(),
      'the frozen set, not the current one',
    );
  });

  it("a collective's grants name datasets (as 2^128 + the id on-chain) or all contributions, never files", async () => {
    const typed = (body: Record<string, unknown>) =>
      post(admin.token, '/grants/typed-data', {
        appAddress: appIn.account.address,
        operations: ['counts'],
        ...body,
      });
    const byFiles = await typed({ fileIds: [members[0].fileId] });
    assert.equal(byFiles.status, 400, await byFiles.clone().text());
    const p = await problemOf(byFiles);
    assert.equal(p.code, 'file_selection_not_allowed');
    assert.ok(p.errors?.some((e) => e.field === 'fileIds'));
    const unknown = await typed({ datasetIds: [`dst_${'0'.repeat(32)}`] });
    assert.equal(unknown.status, 404);
    assert.ok((await problemOf(unknown)).errors?.some((e) => e.field === 'datasetIds.0'));
    const { typedData } = await json<{ typedData: { message: { fileIds: string[]; allFiles: boolean } } }>(
      await typed({ datasetIds: [firstDataset.id] }),
    );
    assert.deepEqual(typedData.message.fileIds, [
      ((1n << 128n) | BigInt(`0x${firstDataset.id.slice(4)}`)).toString(10),
    ]);
    assert.equal(typedData.message.allFiles, false);
    const all = await typed({ allFiles: true });
    assert.equal(all.status, 200);
  });

  it('refuses a non-whitelisted app (not_authorized) and per-person operations (operation_not_allowed)', async () => {
    const out = await submit(gw.url, appOut, { operation: 'counts', parameters: {} });
    assert.equal(out.status, 403);
    const p = await problemOf(out);
    assert.equal(p.code, 'permission_denied');
    assert.ok(p.errors?.some((e) => e.code === 'not_authorized'));

    const summarize = await submit(gw.url, appIn, { operation: 'summarize', parameters: {} });
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
    const id = newId('op');
    const kmsKeyRef = (
      await db.query<Array<{ ref: string }>>(`SELECT kms_key_ref AS ref FROM servers WHERE id = $1`, [
        collectiveId,
      ])
    )[0].ref;
    const seal = await gw.app.get(MetadataSealer).forServer({ id: collectiveId, kmsKeyRef });
    const { operation: op } = await gw.app.get(OperationRepository).createIdempotent(collectiveId, {
      id,
      apiKeyId: app.keyId,
      appAddress: app.account.address.toLowerCase(),
      operation,
      operationVersion: '1',
      sealedParameters: seal.seal('operation.parameters', id, '{}'),
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
    const outsider = await waitDone(gw.url, appOut, await queueDirect(appOut, 'counts', []));
    assert.equal(outsider.status, 'denied');
    assert.equal(outsider.error?.code, 'not_authorized');
    assert.equal(outsider.result, undefined);
  });

  it('an app removed from the whitelist on-chain is refused by the gateway once its head is that recent', async () => {
    await whitelist(appIn.account.address, 'remove');
    // The pre-check may allow at a head up to CHAIN_PRECHECK_HEAD_MAX_AGE_MS old (the worker checks again at a
    // fresh head before decrypting, as the operations tests show); past that, the gateway refuses by itself.
    await sleep(gw.config.CHAIN_PRECHECK_HEAD_MAX_AGE_MS + 50);
    const res = await submit(gw.url, appIn, { operation: 'counts', parameters: {} });
    assert.equal(res.status, 403);
    assert.ok((await problemOf(res)).errors?.some((e) => e.code === 'not_authorized'));
    await whitelist(appIn.account.address, 'add');
  });

  it('access log: admins see every operation; a member sees the rows touching their contributions', async () => {
    type Log = {
      items: Array<{
        operationId: string | null;
        operation: string | null;
        fileIds: string[];
        outcome: string;
        code: string | null;
      }>;
    };
    const all = await json<Log>(await fetch(url('/access-log?limit=200'), { headers: bearer(admin.token) }));
    const ops = (l: Log) =>
      l.items
        .filter((r) => r.operation !== 'download' && r.operationId !== null)
        .map((r) => `${r.operation}:${r.outcome}`)
        .sort();
    // The gateway's refusals are there too, with their reasons: the non-whitelisted app, the per-person
    // operation, the app removed from the whitelist.
    assert.deepEqual(
      all.items
        .filter((r) => r.operationId === null && r.outcome === 'denied')
        .map((r) => `${r.operation}:${r.code}`)
        .sort(),
      ['counts:not_authorized', 'counts:not_authorized', 'summarize:operation_not_allowed'],
    );
    assert.deepEqual(ops(all), [
      'counts:denied',
      'counts:denied',
      'counts:denied',
      'counts:succeeded',
      'sentiment_distribution:succeeded',
      'summarize:denied',
      'top_keywords:succeeded',
    ]);
    const fifth = await json<Log>(
      await fetch(url('/access-log?limit=200'), { headers: bearer(members[4].token) }),
    );
    assert.deepEqual(
      ops(fifth),
      [
        'counts:denied',
        'counts:denied',
        'counts:succeeded',
        'sentiment_distribution:succeeded',
        'summarize:denied',
        'top_keywords:succeeded',
      ],
      'not the run over dataset v1, which froze the set before their file',
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

  it('differential privacy: noisy counts, ε stated in the receipt, spent atomically per app, refused when exhausted', async () => {
    const put = (token: string, body: unknown) =>
      fetch(url('/privacy'), {
        method: 'PUT',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal((await put(members[0].token, { epsilon: 1, budget: 2.5 })).status, 403);
    for (const [body, field] of [
      [{ epsilon: 0, budget: 1 }, 'epsilon'],
      [{ epsilon: 1, budget: null }, 'budget'],
      [{ epsilon: 2, budget: 1 }, 'budget'],
      [{ epsilon: 1 }, 'budget'],
    ] as const) {
      const res = await put(admin.token, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(
        (await problemOf(res)).errors?.some((e) => e.field === field),
        JSON.stringify(body),
      );
    }
    const set = await put(admin.token, { epsilon: 1, budget: 2.5 });
    assert.equal(set.status, 200, await set.clone().text());
    assert.deepEqual(await set.json(), { epsilon: 1, budget: 2.5, apps: [] });

    // Three at once against a budget for two: the spend is one transaction with the outcome, so exactly two
    // are released, whatever the order the worker takes them in.
    const ids = await Promise.all(
      [0, 1, 2].map(async () => {
        const res = await submit(gw.url, appIn, { operation: 'counts', parameters: {} });
        assert.equal(res.status, 202, await res.clone().text());
        return ((await res.json()) as { id: string }).id;
      }),
    );
    const done = await Promise.all(ids.map((id) => waitDone(gw.url, appIn, id)));
    const released = done.filter((d) => d.status === 'succeeded');
    const refused = done.filter((d) => d.status !== 'succeeded');
    assert.equal(released.length, 2, JSON.stringify(done.map((d) => [d.status, d.error])));
    assert.equal(refused.length, 1);
    assert.equal(refused[0].status, 'denied');
    assert.equal(refused[0].error?.code, 'privacy_budget_exhausted');
    assert.equal(refused[0].result, undefined);
    for (const d of released) {
      const r = d.result as Record<string, number> & { privacy: { mechanism: string; epsilon: number } };
      assert.deepEqual(r.privacy, { mechanism: 'laplace', epsilon: 1, scale: 4 });
      const receipt = d.receipt as unknown as { typedData: { message: { privacyEpsilon: string } } };
      assert.equal(receipt.typedData.message.privacyEpsilon, '1', 'the receipt states the ε spent');
    }
    // Noise: Laplace(4) on four counts; both releases equal to the exact counts has odds below 1 in 10^7.
    const exact = JSON.stringify([
      exactCounts.documents,
      exactCounts.words,
      exactCounts.sentences,
      exactCounts.contributors,
    ]);
    const noisy = released.map((d) => {
      const r = d.result as Record<string, number>;
      return JSON.stringify([r.documents, r.words, r.sentences, r.contributors]);
    });
    assert.ok(
      noisy.some((n) => n !== exact),
      `noisy ${noisy.join(' ')} vs exact ${exact}`,
    );

    const view = await json<{ apps: Array<{ app: string; spent: number; remaining: number }> }>(
      await fetch(url('/privacy'), { headers: bearer(admin.token) }),
    );
    assert.deepEqual(view.apps, [{ app: appIn.account.address, spent: 2, remaining: 0.5 }]);
    const again = await submit(gw.url, appIn, { operation: 'top_keywords', parameters: {} });
    const last = await waitDone(gw.url, appIn, ((await again.json()) as { id: string }).id);
    assert.equal(last.status, 'denied');
    assert.equal(last.error?.code, 'privacy_budget_exhausted');
    const [row] = await db.query<Array<{ spent: string }>>(
      `SELECT spent::text FROM privacy_budgets WHERE server_id = $1`,
      [collectiveId],
    );
    assert.equal(Number(row.spent), 2, 'a refusal spends nothing');
    // Off again: exact counts, ε 0 in the receipt (budgets already spent stay spent).
    assert.equal((await put(admin.token, { epsilon: null, budget: null })).status, 200);
    const plain = await submit(gw.url, appIn, { operation: 'counts', parameters: {} });
    const p = await waitDone(gw.url, appIn, ((await plain.json()) as { id: string }).id);
    assert.equal(p.status, 'succeeded');
    assert.deepEqual(p.result, exactCounts);
    assert.equal(
      (p.receipt as unknown as { typedData: { message: { privacyEpsilon: string } } }).typedData.message
        .privacyEpsilon,
      '0',
    );
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

    const res = await fetch(url(`/members/${gone.address}`), {
      method: 'DELETE',
      headers: bearer(admin.token),
    });
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
    // Dataset v1 froze their file: run again, it would differ from earlier runs by exactly their data.
    const retired = await submit(gw.url, appIn, {
      operation: 'counts',
      datasetId: firstDataset.id,
      parameters: {},
    });
    assert.equal(retired.status, 202, await retired.clone().text());
    const r = await waitDone(gw.url, appIn, ((await retired.json()) as { id: string }).id);
    assert.equal(r.status, 'denied');
    assert.equal(r.error?.code, 'dataset_retired');

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
