import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuthChangeFeed } from '@hearth/db';
import { mediumGateway, type MediumGateway } from '../../../../test/support/medium';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { ApiKeyCache } from './api-key-cache';
import { sha256 } from './tokens';

/** Polls until `done` holds; returns how long it took, or fails after `withinMs`. */
async function eventually(done: () => Promise<boolean>, withinMs: number): Promise<number> {
  const start = Date.now();
  while (!(await done())) {
    if (Date.now() - start > withinMs) assert.fail(`not within ${withinMs} ms`);
    await sleep(5);
  }
  return Date.now() - start;
}

describe('ApiKeyCache (real Postgres, LISTEN/NOTIFY)', () => {
  let gw: MediumGateway;
  let cache: ApiKeyCache;
  let feed: AuthChangeFeed;

  before(async () => {
    gw = await mediumGateway({ imports: [ApiKeysModule] });
    cache = gw.get(ApiKeyCache);
    feed = gw.get(AuthChangeFeed);
    await eventually(async () => feed.live, 5000);
  });
  after(() => gw.close());

  const newKey = async () => {
    const t = await gw.tenant();
    const key = await gw.apiKey(t.server);
    return { t, key, hash: sha256(key.secret) };
  };

  it('serves a key from memory: the second lookup is the same object, not a new read', async () => {
    const { hash } = await newKey();
    const first = await cache.find(hash);
    assert.ok(first);
    assert.equal(await cache.find(hash), first);
  });

  it('a revoke written by another replica (plain SQL) ends the key here within a second', async () => {
    const { key, hash } = await newKey();
    assert.equal((await cache.find(hash))?.key.revokedAt, null);
    await gw.dataSource.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [key.id]);
    const ms = await eventually(async () => (await cache.find(hash))?.key.revokedAt != null, 1000);
    assert.ok(ms < 1000);
  });

  it("this replica's own revoke takes effect on the very next lookup", async () => {
    const { t, key, hash } = await newKey();
    assert.ok(await cache.find(hash));
    await gw.get(ApiKeysService).revoke(t.server.id, key.id);
    assert.notEqual((await cache.find(hash))?.key.revokedAt ?? null, null);
  });

  it("a deleted server's keys stop authenticating", async () => {
    const { t, hash } = await newKey();
    assert.ok(await cache.find(hash));
    await gw.dataSource.query('DELETE FROM servers WHERE id = $1', [t.server.id]);
    await eventually(async () => (await cache.find(hash)) === null, 1000);
  });

  it('while the listening connection is gone nothing is served from memory, and it comes back by itself', async () => {
    const { key, hash } = await newKey();
    assert.ok(await cache.find(hash));
    await gw.dataSource.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE application_name = 'hearth-auth-feed' AND datname = current_database()`,
    );
    await eventually(async () => !feed.live, 2000);
    // A change made while nobody listens is seen by the very next lookup: the cache is bypassed.
    await gw.dataSource.query('UPDATE api_keys SET rate_per_minute = 5 WHERE id = $1', [key.id]);
    assert.equal((await cache.find(hash))?.key.ratePerMinute, 5);
    await eventually(async () => feed.live, 5000);
    const fresh = await cache.find(hash);
    assert.equal(fresh?.key.ratePerMinute, 5);
    assert.equal(await cache.find(hash), fresh);
  });
});
