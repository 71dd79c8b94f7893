import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { identityFromPrivateKey } from '@hearth/crypto';
import { newId } from '@hearth/ids';
import { isKeyManagerError, type KeyManager } from '@hearth/kms';
import { DataSource } from 'typeorm';
import { getAddress } from 'viem';
import { KEY_MANAGER } from '../apps/gateway/src/keys/keys.module';
import { identityKeyContext } from '@hearth/blobs';
import { problemOf, type RunningGateway, startGateway } from './support/apps';
import { bearer, signIn, type SignedIn } from './support/siwe';

interface ServerBody {
  id: string;
  kind: string;
  name: string;
  address: string;
  publicKey: string;
  owner: string;
  policy: { kind: string; address?: string };
  createdAt: string;
}

describe('servers', () => {
  let gw: RunningGateway;
  let db: DataSource;
  let keys: KeyManager;
  let alice: SignedIn;
  let bob: SignedIn;
  before(async () => {
    gw = await startGateway();
    db = gw.app.get(DataSource);
    keys = gw.app.get<KeyManager>(KEY_MANAGER);
    [alice, bob] = await Promise.all([signIn(gw.url), signIn(gw.url)]);
  });
  after(async () => {
    await gw.close();
  });

  async function insertCollective(ownerOf: SignedIn): Promise<string> {
    const [acc] = await db.query<Array<{ id: string }>>(`SELECT id FROM accounts WHERE address = $1`, [
      ownerOf.address.toLowerCase(),
    ]);
    const id = newId('srv');
    await db.query(
      `INSERT INTO servers (id, kind, name, owner_account_id, owner_address, kms_key_ref, address, public_key, wrapped_identity_key)
       VALUES ($1, 'collective', 'Collective', $2, $3, 'local:none', $4, '0x04', '\\x00')`,
      [id, acc.id, ownerOf.address.toLowerCase(), '0x' + '12'.repeat(20)],
    );
    return id;
  }

  it("shows a server's public identity, whose private key is stored only wrapped by its tenant key", async () => {
    const res = await fetch(`${gw.url}/v1/servers/${alice.serverId}`, { headers: bearer(alice.token) });
    assert.equal(res.status, 200);
    const server = (await res.json()) as ServerBody;
    assert.deepEqual(Object.keys(server).sort(), [
      'address',
      'createdAt',
      'id',
      'kind',
      'name',
      'owner',
      'policy',
      'publicKey',
    ]);
    assert.equal(server.id, alice.serverId);
    assert.equal(server.kind, 'personal');
    assert.equal(server.owner, alice.address);
    assert.equal(server.address, getAddress(server.address));
    assert.match(server.publicKey, /^0x04[0-9a-f]{128}$/);
    assert.deepEqual(server.policy, { kind: 'grants' });
    assert.ok(!Number.isNaN(Date.parse(server.createdAt)));

    const [row] = await db.query<Array<{ kms_key_ref: string; wrapped_identity_key: Buffer }>>(
      `SELECT kms_key_ref, wrapped_identity_key FROM servers WHERE id = $1`,
      [alice.serverId],
    );
    const priv = await keys.decrypt(
      row.kms_key_ref,
      row.wrapped_identity_key,
      identityKeyContext(alice.serverId),
    );
    const identity = identityFromPrivateKey(priv);
    assert.equal(identity.address, server.address);
    assert.equal(identity.publicKey, server.publicKey);
    // Another tenant's context cannot open it.
    await assert.rejects(
      keys.decrypt(row.kms_key_ref, row.wrapped_identity_key, identityKeyContext(bob.serverId)),
    );
  });

  it('answers 404 for unknown, malformed and other tenants’ servers', async () => {
    for (const id of [newId('srv'), 'srv_nothex', 'not-an-id', bob.serverId, `${bob.serverId}x`]) {
      const res = await fetch(`${gw.url}/v1/servers/${encodeURIComponent(id)}`, {
        headers: bearer(alice.token),
      });
      assert.equal(res.status, 404, id);
      const problem = await problemOf(res);
      assert.equal(problem.code, 'not_found');
    }
  });

  it('lists owned servers and collectives I am a member of, paginated', async () => {
    const owned = [
      await insertCollective(alice),
      await insertCollective(alice),
      await insertCollective(alice),
    ];
    const joined = await insertCollective(bob);
    await db.query(
      `INSERT INTO server_members (id, server_id, address, role) VALUES ($1, $2, $3, 'member')`,
      [newId('mem'), joined, alice.address.toLowerCase()],
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const res = await fetch(`${gw.url}/v1/servers${qs}`, { headers: bearer(alice.token) });
      assert.equal(res.status, 200);
      const page = (await res.json()) as { items: ServerBody[]; nextCursor: string | null };
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((s) => s.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [alice.serverId, ...owned, joined].sort());

    // A member sees the collective but cannot delete it.
    assert.equal(
      (await fetch(`${gw.url}/v1/servers/${joined}`, { headers: bearer(alice.token) })).status,
      200,
    );
    const del = await fetch(`${gw.url}/v1/servers/${joined}`, {
      method: 'DELETE',
      headers: bearer(alice.token),
    });
    assert.equal(del.status, 404);

    // Bob sees his own, not Alice's.
    const bobs = (await (await fetch(`${gw.url}/v1/servers`, { headers: bearer(bob.token) })).json()) as {
      items: ServerBody[];
    };
    assert.deepEqual(bobs.items.map((s) => s.id).sort(), [bob.serverId, joined].sort());
  });

  it('rejects bad pagination with 400 naming the parameter', async () => {
    for (const [qs, field] of [
      ['limit=0', 'query.limit'],
      ['limit=201', 'query.limit'],
      ['limit=abc', 'query.limit'],
      ['cursor=nope', 'query.cursor'],
      ['sort=desc', 'query.sort'],
    ]) {
      const res = await fetch(`${gw.url}/v1/servers?${qs}`, { headers: bearer(alice.token) });
      const problem = await problemOf(res);
      assert.equal(res.status, 400, qs);
      assert.ok(
        problem.errors?.some((e) => e.field === field),
        `${qs}: ${JSON.stringify(problem.errors)}`,
      );
    }
  });

  it('deletes a server by destroying its tenant key first, then its rows', async () => {
    const carol = await signIn(gw.url);
    const keyRes = await fetch(`${gw.url}/v1/servers/${carol.serverId}/api-keys`, {
      method: 'POST',
      headers: { ...bearer(carol.token), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'app', appAddress: bob.address }),
    });
    assert.equal(keyRes.status, 201);
    const { key } = (await keyRes.json()) as { key: string };
    const [row] = await db.query<Array<{ kms_key_ref: string; wrapped_identity_key: Buffer }>>(
      `SELECT kms_key_ref, wrapped_identity_key FROM servers WHERE id = $1`,
      [carol.serverId],
    );
    const ctx = identityKeyContext(carol.serverId);
    (await keys.decrypt(row.kms_key_ref, row.wrapped_identity_key, ctx)).fill(0);

    // Not by someone else.
    const stranger = await fetch(`${gw.url}/v1/servers/${carol.serverId}`, {
      method: 'DELETE',
      headers: bearer(alice.token),
    });
    assert.equal(stranger.status, 404);

    const del = await fetch(`${gw.url}/v1/servers/${carol.serverId}`, {
      method: 'DELETE',
      headers: bearer(carol.token),
    });
    assert.equal(del.status, 204);
    await assert.rejects(keys.decrypt(row.kms_key_ref, row.wrapped_identity_key, ctx), (err: unknown) =>
      isKeyManagerError(err, 'key_destroyed'),
    );
    assert.equal(
      (await fetch(`${gw.url}/v1/servers/${carol.serverId}`, { headers: bearer(carol.token) })).status,
      404,
    );
    const left = await db.query<Array<{ servers: number; keys: number }>>(
      `SELECT (SELECT count(*) FROM servers WHERE id = $1)::int AS servers, (SELECT count(*) FROM api_keys WHERE server_id = $1)::int AS keys`,
      [carol.serverId],
    );
    assert.deepEqual(left[0], { servers: 0, keys: 0 });
    // Its API key died with it.
    const whoami = await fetch(`${gw.url}/v1/whoami`, { headers: bearer(key) });
    assert.equal(whoami.status, 401);
    // Deleting again: nothing there.
    assert.equal(
      (
        await fetch(`${gw.url}/v1/servers/${carol.serverId}`, {
          method: 'DELETE',
          headers: bearer(carol.token),
        })
      ).status,
      404,
    );
    // The next sign-in provisions a fresh personal server.
    const back = await signIn(gw.url, carol.account);
    assert.notEqual(back.serverId, carol.serverId);
  });
});
