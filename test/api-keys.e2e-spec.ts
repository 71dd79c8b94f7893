import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { problemOf, type RunningGateway, startGateway } from './support/apps';
import { bearer, signIn, type SignedIn } from './support/siwe';

interface CreatedKey {
  id: string;
  key: string;
  name: string;
  appAddress: string;
  prefix: string;
  operations: string[] | null;
  origins: string[] | null;
  ratePerMinute: number;
}

const appAddress = privateKeyToAccount(generatePrivateKey()).address;

describe('API keys', () => {
  let gw: RunningGateway;
  let db: DataSource;
  let owner: SignedIn;
  before(async () => {
    gw = await startGateway();
    db = gw.app.get(DataSource);
    owner = await signIn(gw.url);
  });
  after(async () => {
    await gw.close();
  });

  function post(url: string, token: string, body: unknown): Promise<Response> {
    return fetch(url, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  async function createKey(body: Record<string, unknown> = {}, base = gw.url): Promise<CreatedKey> {
    const res = await post(`${base}/v1/servers/${owner.serverId}/api-keys`, owner.token, {
      name: 'my app',
      appAddress: appAddress.toLowerCase(),
      ...body,
    });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as CreatedKey;
  }

  function whoami(key: string, headers: Record<string, string> = {}, base = gw.url): Promise<Response> {
    return fetch(`${base}/v1/whoami`, { headers: { ...bearer(key), ...headers } });
  }

  async function keyRows(): Promise<number> {
    const [row] = await db.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM api_keys WHERE server_id = $1`,
      [owner.serverId],
    );
    return row.n;
  }

  it('creates a key shown once, stored as a hash, listed without secrets', async () => {
    const created = await createKey({ operations: ['summarize', 'summarize'], ratePerMinute: 100 });
    assert.match(created.id, /^key_[0-9a-f]{32}$/);
    assert.match(created.key, /^hth_live_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.appAddress, appAddress);
    assert.equal(created.prefix, created.key.slice(0, 13));
    assert.deepEqual(created.operations, ['summarize']);
    assert.equal(created.origins, null);
    assert.equal(created.ratePerMinute, 100);

    const [row] = await db.query<Array<{ secret_hash: Buffer }>>(
      `SELECT secret_hash FROM api_keys WHERE id = $1`,
      [created.id],
    );
    assert.equal(row.secret_hash.length, 32);
    const plain = await db.query<unknown[]>(
      `SELECT 1 FROM api_keys WHERE position($1::bytea in secret_hash) > 0`,
      [Buffer.from(created.key)],
    );
    assert.equal(plain.length, 0);

    const list = await fetch(`${gw.url}/v1/servers/${owner.serverId}/api-keys`, {
      headers: bearer(owner.token),
    });
    assert.equal(list.status, 200);
    const text = await list.text();
    assert.ok(!text.includes(created.key), 'the list must not carry the secret');
    const page = JSON.parse(text) as { items: Array<Record<string, unknown>>; nextCursor: string | null };
    const listed = page.items.find((k) => k.id === created.id);
    assert.ok(listed);
    assert.equal(listed.key, undefined);
    assert.equal(listed.prefix, created.prefix);

    const me = await whoami(created.key);
    assert.equal(me.status, 200);
    const server = (await (
      await fetch(`${gw.url}/v1/servers/${owner.serverId}`, { headers: bearer(owner.token) })
    ).json()) as { address: string; publicKey: string };
    assert.deepEqual(await me.json(), {
      keyId: created.id,
      serverId: owner.serverId,
      appAddress,
      serverAddress: server.address,
      serverPublicKey: server.publicKey,
    });
    assert.equal(me.headers.get('ratelimit-limit'), '100');
    assert.equal(me.headers.get('ratelimit-remaining'), '99');
    assert.match(me.headers.get('ratelimit-reset') ?? '', /^\d+$/);
  });

  it('paginates the list', async () => {
    await createKey();
    await createKey();
    const first = (await (
      await fetch(`${gw.url}/v1/servers/${owner.serverId}/api-keys?limit=1`, { headers: bearer(owner.token) })
    ).json()) as { items: Array<{ id: string }>; nextCursor: string };
    assert.equal(first.items.length, 1);
    assert.equal(first.nextCursor, first.items[0].id);
    const second = (await (
      await fetch(`${gw.url}/v1/servers/${owner.serverId}/api-keys?limit=1&cursor=${first.nextCursor}`, {
        headers: bearer(owner.token),
      })
    ).json()) as { items: Array<{ id: string }> };
    assert.ok(second.items[0].id > first.items[0].id);
  });

  it('rejects unknown, malformed and revoked keys with 401', async () => {
    for (const key of ['hth_live_nope', `hth_live_${'A'.repeat(43)}`, owner.token, 'garbage']) {
      const res = await whoami(key);
      assert.equal(res.status, 401);
      assert.equal((await problemOf(res)).code, 'invalid_api_key');
    }
    const anon = await fetch(`${gw.url}/v1/whoami`);
    assert.equal(anon.status, 401);
    assert.equal((await problemOf(anon)).code, 'unauthorized');

    const created = await createKey();
    // An API key is not a session.
    const onSessionRoute = await fetch(`${gw.url}/v1/servers`, { headers: bearer(created.key) });
    assert.equal(onSessionRoute.status, 401);
    assert.equal((await problemOf(onSessionRoute)).code, 'invalid_session');

    const del = await fetch(`${gw.url}/v1/servers/${owner.serverId}/api-keys/${created.id}`, {
      method: 'DELETE',
      headers: bearer(owner.token),
    });
    assert.equal(del.status, 204);
    const res = await whoami(created.key);
    assert.equal(res.status, 401);
    assert.equal((await problemOf(res)).code, 'api_key_revoked');
    // Revoking again is harmless; an unknown key id is 404; a revoked key does not rotate.
    const again = await fetch(`${gw.url}/v1/servers/${owner.serverId}/api-keys/${created.id}`, {
      method: 'DELETE',
      headers: bearer(owner.token),
    });
    assert.equal(again.status, 204);
    const unknown = await fetch(`${gw.url}/v1/servers/${owner.serverId}/api-keys/key_${'0'.repeat(32)}`, {
      method: 'DELETE',
      headers: bearer(owner.token),
    });
    assert.equal(unknown.status, 404);
    const rotate = await post(
      `${gw.url}/v1/servers/${owner.serverId}/api-keys/${created.id}/rotate`,
      owner.token,
      {},
    );
    assert.equal(rotate.status, 409);
  });

  it('rotates: same id, the new secret works at once, the old one during the grace period', async () => {
    const created = await createKey();
    const res = await post(
      `${gw.url}/v1/servers/${owner.serverId}/api-keys/${created.id}/rotate`,
      owner.token,
      {},
    );
    assert.equal(res.status, 200);
    const rotated = (await res.json()) as { id: string; key: string; previousKeyExpiresAt: string };
    assert.equal(rotated.id, created.id);
    assert.notEqual(rotated.key, created.key);
    const grace = Date.parse(rotated.previousKeyExpiresAt) - Date.now();
    assert.ok(Math.abs(grace - gw.config.API_KEY_ROTATION_GRACE_SECONDS * 1000) < 60_000);
    for (const key of [rotated.key, created.key]) {
      const me = await whoami(key);
      assert.equal(me.status, 200);
      assert.equal(((await me.json()) as { keyId: string }).keyId, created.id);
    }
  });

  it('stops accepting the old secret once the grace period is over', async () => {
    const short = await startGateway({ API_KEY_ROTATION_GRACE_SECONDS: '1' });
    try {
      const created = await createKey({}, short.url);
      const res = await post(
        `${short.url}/v1/servers/${owner.serverId}/api-keys/${created.id}/rotate`,
        owner.token,
        {},
      );
      const rotated = (await res.json()) as { key: string; previousKeyExpiresAt: string };
      assert.equal((await whoami(created.key, {}, short.url)).status, 200);
      await sleep(Math.max(0, Date.parse(rotated.previousKeyExpiresAt) - Date.now()) + 200);
      const old = await whoami(created.key, {}, short.url);
      assert.equal(old.status, 401);
      assert.equal((await problemOf(old)).code, 'invalid_api_key');
      assert.equal((await whoami(rotated.key, {}, short.url)).status, 200);
      // Rotating again with no grace at all: the previous secret dies at once.
      const zero = await startGateway({ API_KEY_ROTATION_GRACE_SECONDS: '0' });
      try {
        const again = (await (
          await post(
            `${zero.url}/v1/servers/${owner.serverId}/api-keys/${created.id}/rotate`,
            owner.token,
            {},
          )
        ).json()) as { key: string };
        assert.equal((await whoami(rotated.key, {}, zero.url)).status, 401);
        assert.equal((await whoami(again.key, {}, zero.url)).status, 200);
      } finally {
        await zero.close();
      }
    } finally {
      await short.close();
    }
  });

  it('enforces the per-key rate across gateway replicas, with RateLimit headers and Retry-After', async () => {
    const replica = await startGateway();
    try {
      const created = await createKey({ ratePerMinute: 3 });
      const bases = [gw.url, replica.url, gw.url];
      for (let i = 0; i < 3; i++) {
        const res = await whoami(created.key, {}, bases[i]);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('ratelimit-limit'), '3');
        assert.equal(res.headers.get('ratelimit-remaining'), String(2 - i));
      }
      const limited = await whoami(created.key, {}, replica.url);
      assert.equal(limited.status, 429);
      assert.equal((await problemOf(limited)).code, 'rate_limited');
      const retryAfter = Number(limited.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
      assert.equal(limited.headers.get('ratelimit-limit'), '3');
      assert.equal(limited.headers.get('ratelimit-remaining'), '0');
      assert.equal(limited.headers.get('ratelimit-reset'), String(retryAfter));
      // Another key of the same server has its own budget.
      const other = await createKey({ ratePerMinute: 3 });
      assert.equal((await whoami(other.key)).status, 200);
    } finally {
      await replica.close();
    }
  });

  it('checks the Origin allowlist', async () => {
    const created = await createKey({
      origins: ['https://App.Example.com', 'https://*.trusted.dev', 'http://localhost:3000'],
    });
    assert.deepEqual(created.origins, [
      'https://app.example.com',
      'https://*.trusted.dev',
      'http://localhost:3000',
    ]);
    for (const origin of [
      'https://app.example.com',
      'https://a.trusted.dev',
      'https://a.b.trusted.dev',
      'http://localhost:3000',
    ]) {
      assert.equal((await whoami(created.key, { origin })).status, 200, origin);
    }
    for (const origin of [
      'https://evil.com',
      'https://trusted.dev',
      'http://app.example.com',
      'https://app.example.com.evil.com',
      'https://eviltrusted.dev',
      'null',
      undefined,
    ]) {
      const res = await whoami(created.key, origin ? { origin } : {});
      assert.equal(res.status, 403, String(origin));
      assert.equal((await problemOf(res)).code, 'origin_not_allowed');
      assert.ok(res.headers.get('ratelimit-limit'));
    }
    // A key without an allowlist takes any origin.
    const open = await createKey();
    assert.equal((await whoami(open.key, { origin: 'https://anything.example' })).status, 200);
  });

  it('answers bad input with 400 naming the field and writes no row', async () => {
    const before = await keyRows();
    const base = { name: 'x', appAddress };
    const cases: Array<[unknown, string]> = [
      [{ ...base, name: 'n'.repeat(101) }, 'name'],
      [{ ...base, name: '   ' }, 'name'],
      [{ ...base, name: 7 }, 'name'],
      [{ name: 'x' }, 'appAddress'],
      [{ ...base, appAddress: '0x1234' }, 'appAddress'],
      [{ ...base, appAddress: 'vitalik.eth' }, 'appAddress'],
      [{ ...base, origins: Array.from({ length: 51 }, (_, i) => `https://a${i}.example.com`) }, 'origins'],
      [{ ...base, origins: ['https://example.com/path'] }, 'origins.0'],
      [{ ...base, origins: ['ftp://example.com'] }, 'origins.0'],
      [{ ...base, origins: 'https://example.com' }, 'origins'],
      [{ ...base, operations: [] }, 'operations'],
      [{ ...base, operations: ['bad name!'] }, 'operations.0'],
      [{ ...base, operations: Array.from({ length: 51 }, (_, i) => `op${i}`) }, 'operations'],
      [{ ...base, ratePerMinute: '10' }, 'ratePerMinute'],
      [{ ...base, ratePerMinute: 0 }, 'ratePerMinute'],
      [{ ...base, ratePerMinute: 1.5 }, 'ratePerMinute'],
      [{ ...base, admin: true }, 'admin'],
      [['x'], '(body)'],
    ];
    for (const [body, field] of cases) {
      const res = await post(`${gw.url}/v1/servers/${owner.serverId}/api-keys`, owner.token, body);
      const problem = await problemOf(res);
      assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${JSON.stringify(problem)}`);
      assert.ok(
        problem.errors?.some((e) => e.field === field),
        `expected ${field}: ${JSON.stringify(problem.errors)}`,
      );
    }
    const notJson = await fetch(`${gw.url}/v1/servers/${owner.serverId}/api-keys`, {
      method: 'POST',
      headers: { ...bearer(owner.token), 'content-type': 'text/plain' },
      body: 'name=x',
    });
    assert.equal(notJson.status, 415);
    const malformed = await fetch(`${gw.url}/v1/servers/${owner.serverId}/api-keys`, {
      method: 'POST',
      headers: { ...bearer(owner.token), 'content-type': 'application/json' },
      body: '{"name": ',
    });
    assert.equal(malformed.status, 400);
    assert.equal(await keyRows(), before);
  });
});
