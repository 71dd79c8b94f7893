import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { problemOf, type RunningGateway, startGateway } from './support/apps';
import { json, newTenant, type Tenant } from './support/flow';
import { bearer } from './support/siwe';

/**
 * Owner-side limits through the real gateway, Redis, Postgres and dev chain: a flood of sign-in nonces is cut off
 * per IP (and what it leaves in Redis is bounded and expires), session routes are limited per account, and the
 * server, collective, relayed-transaction and storage quotas hold, also under concurrent requests.
 */
describe('owner rate limits and quotas', () => {
  const prefix = `hearth-limits-${randomBytes(4).toString('hex')}`;
  const AUTH_LIMIT = 20;
  const SESSION_LIMIT = 40;
  let gw: RunningGateway;
  let redis: Redis;

  before(async () => {
    gw = await startGateway({
      QUEUE_PREFIX: prefix,
      AUTH_RATE_PER_MINUTE_PER_IP: String(AUTH_LIMIT),
      SESSION_RATE_PER_MINUTE: String(SESSION_LIMIT),
      QUOTA_SERVERS_PER_ACCOUNT: '3',
      QUOTA_COLLECTIVES_PER_ACCOUNT: '1',
      QUOTA_RELAYED_TX_PER_DAY: '100',
      QUOTA_STORAGE_BYTES_PER_SERVER: '100',
    });
    redis = new Redis(gw.config.REDIS_URL);
  });
  after(async () => {
    redis?.disconnect();
    await gw?.close();
  });

  async function nonceKeys(): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:siwe:nonce:*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  }

  // Sign-ins below spend this IP's budget too: the flood runs on a fresh minute's window, last.
  let tenant: Tenant;
  before(async () => {
    tenant = await newTenant(gw.url);
  });

  it('session routes: past the per-account limit, 429 rate_limited with Retry-After', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < SESSION_LIMIT + 5; i++) {
      const res = await fetch(`${gw.url}/v1/servers`, { headers: bearer(tenant.token) });
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
      else await res.arrayBuffer();
    }
    // Signing in used a request or two of the window already; from the first 429 on, every request is refused.
    const first429 = statuses.indexOf(429);
    assert.ok(first429 >= SESSION_LIMIT - 3 && first429 <= SESSION_LIMIT, `first 429 at ${first429}`);
    assert.ok(
      statuses.slice(first429).every((s) => s === 429),
      statuses.join(','),
    );
    assert.ok(limited, 'never limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    const problem = await problemOf(limited);
    assert.deepEqual([problem.status, problem.code], [429, 'rate_limited']);
    // The download route authenticates on its own, and counts against the same per-account budget.
    const download = await fetch(
      `${gw.url}/v1/servers/${tenant.serverId}/files/fil_${'0'.repeat(32)}/content`,
      { headers: bearer(tenant.token) },
    );
    assert.equal((await problemOf(download)).code, 'rate_limited');
  });

  it('the storage quota: an upload past the server bytes is 413 quota_exceeded, and usage shows the standing', async () => {
    const other = await newTenant(gw.url);
    const upload = (bytes: number) =>
      fetch(`${gw.url}/v1/servers/${other.serverId}/files?name=f.txt`, {
        method: 'POST',
        headers: { ...bearer(other.token), 'content-type': 'text/plain' },
        body: 'x'.repeat(bytes),
      });
    assert.equal((await upload(30)).status, 201);
    // Two at once, each fitting alone in the 70 bytes left: exactly one is stored.
    const racing = await Promise.all([upload(60), upload(60)]);
    assert.deepEqual(racing.map((r) => r.status).sort(), [201, 413]);
    const refused = await problemOf(racing.find((r) => r.status === 413)!);
    assert.equal(refused.code, 'quota_exceeded');
    assert.equal(refused.errors?.[0].field, 'storage_bytes');
    await racing.find((r) => r.status === 201)!.arrayBuffer();
    const usage = await json<{ quotas: Record<string, { used: number; limit: number }> }>(
      await fetch(`${gw.url}/v1/servers/${other.serverId}/usage`, { headers: bearer(other.token) }),
    );
    assert.deepEqual(usage.quotas.storageBytes, { used: 90, limit: 100 });
    assert.deepEqual(usage.quotas.servers, { used: 1, limit: 3 });
  });

  it('the collective quota: two concurrent creates at quota - 1, one 201 and one 403 naming the quota', async () => {
    const owner = await newTenant(gw.url);
    const create = () =>
      fetch(`${gw.url}/v1/servers`, {
        method: 'POST',
        headers: { ...bearer(owner.token), 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'collective', name: 'c' }),
      });
    const racing = await Promise.all([create(), create()]);
    assert.deepEqual(racing.map((r) => r.status).sort(), [201, 403]);
    const refused = await problemOf(racing.find((r) => r.status === 403)!);
    assert.deepEqual([refused.code, refused.errors?.[0].field], ['quota_exceeded', 'collectives']);
    // Refused before the relayer paid: a third attempt is refused too and the counts did not move.
    const third = await create();
    assert.equal(third.status, 403);
    await third.arrayBuffer();
    const usage = await json<{ quotas: Record<string, { used: number; limit: number }> }>(
      await fetch(`${gw.url}/v1/servers/${owner.serverId}/usage`, { headers: bearer(owner.token) }),
    );
    assert.deepEqual(usage.quotas.collectives, { used: 1, limit: 1 });
    assert.equal(usage.quotas.servers.used, 2);
    // At most the two racers reached the relayer (one may have deployed for nothing); the third did not.
    assert.ok(usage.quotas.relayedTransactionsToday.used <= 2, JSON.stringify(usage.quotas));
  });

  it('a nonce flood: per IP, past the limit 429 + Retry-After, and the nonces it leaves are bounded and expire', async () => {
    // Let this IP's sign-in window (opened by the sign-ins above) run out, so the count starts at zero.
    const ttl = await redis.pttl(`${prefix}:ratelimit:ip:nonce:127.0.0.1`);
    if (ttl > 0) await redis.del(`${prefix}:ratelimit:ip:nonce:127.0.0.1`);
    const before = (await nonceKeys()).length;
    const FLOOD = 300;
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < FLOOD; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => fetch(`${gw.url}/v1/auth/nonce`)));
      for (const res of batch) {
        statuses.push(res.status);
        if (res.status === 429 && !limited) limited = res;
        else await res.arrayBuffer();
      }
    }
    assert.equal(statuses.filter((s) => s === 200).length, AUTH_LIMIT);
    assert.equal(statuses.filter((s) => s === 429).length, FLOOD - AUTH_LIMIT);
    assert.ok(limited);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal((await problemOf(limited)).code, 'rate_limited');
    const keys = await nonceKeys();
    assert.equal(keys.length - before, AUTH_LIMIT, 'only the answered nonces are stored');
    for (const key of keys) {
      const left = await redis.ttl(key);
      assert.ok(left > 0 && left <= 300, `${key} lives ${left}s`);
    }
    // Sign-in is limited on its own bucket, also per IP.
    const siwe = await fetch(`${gw.url}/v1/auth/siwe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'x', signature: '0x00' }),
    });
    assert.notEqual(siwe.status, 429);
    await siwe.arrayBuffer();
  });

  it('a nonce flood from many addresses: the deployment-wide bound holds (429 past it, that many keys at most)', async () => {
    const manyPrefix = `${prefix}-many`;
    const TOTAL = 25;
    const many = await startGateway({
      QUEUE_PREFIX: manyPrefix,
      TRUST_PROXY: 'true',
      AUTH_RATE_PER_MINUTE_PER_IP: '1000',
      AUTH_NONCES_PER_MINUTE: String(TOTAL),
    });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          fetch(`${many.url}/v1/auth/nonce`, {
            headers: { 'x-forwarded-for': `10.0.${i >> 8}.${i & 255}` },
          }).then(async (r) => (await r.arrayBuffer(), r.status)),
        ),
      );
      assert.equal(statuses.filter((s) => s === 200).length, TOTAL);
      assert.equal(statuses.filter((s) => s === 429).length, 100 - TOTAL);
      let cursor = '0';
      let keys = 0;
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${manyPrefix}:siwe:nonce:*`, 'COUNT', 1000);
        keys += batch.length;
        cursor = next;
      } while (cursor !== '0');
      assert.equal(keys, TOTAL);
    } finally {
      await many.close();
    }
  });
});
