import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKeyRepository, EventRepository } from '@hearth/db';
import { newId } from '@hearth/ids';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { mediumGateway, type MediumGateway, type Tenant, problem } from '../../../../test/support/medium';
import { sha256 } from '../auth/tokens';
import { ApiKeysModule } from './api-keys.module';
import { ApiKeysService } from './api-keys.service';

describe('ApiKeysService (real Postgres)', () => {
  let gw: MediumGateway;
  let service: ApiKeysService;
  let keys: ApiKeyRepository;
  let a: Tenant;
  let b: Tenant;
  const appAddress = privateKeyToAccount(generatePrivateKey()).address;

  before(async () => {
    gw = await mediumGateway({
      imports: [ApiKeysModule],
      config: { API_KEY_ROTATION_GRACE_SECONDS: '600', DEFAULT_RATE_PER_MINUTE: '77' },
    });
    service = gw.get(ApiKeysService);
    keys = gw.get(ApiKeyRepository);
    [a, b] = await Promise.all([gw.tenant(), gw.tenant()]);
  });
  after(() => gw.close());

  /** The server whose key a presented secret authenticates, or null. */
  const authenticates = async (secret: string) =>
    (await keys.findBySecretHash(sha256(secret)))?.server.id ?? null;

  it('creates a key whose secret is shown once and authenticates as its server; lists show its prefix only', async () => {
    const created = await service.create(a.server.id, {
      name: 'reader',
      appAddress,
      operations: ['summarize', 'summarize'],
    });
    assert.match(created.key, /^hth_live_/);
    assert.deepEqual(
      [created.serverId, created.operations, created.ratePerMinute],
      [a.server.id, ['summarize'], 77],
    );
    assert.equal(await authenticates(created.key), a.server.id);
    const page = await service.list(a.server.id, { limit: 10 });
    const listed = page.items.find((k) => k.id === created.id);
    assert.ok(listed);
    assert.equal(created.key.startsWith(listed.prefix), true);
    assert.equal(JSON.stringify(page).includes(created.key), false);
  });

  it('rotates: the new secret works at once, the old one for the grace period; a revoked key does not rotate', async () => {
    const created = await service.create(a.server.id, { name: 'rotating', appAddress });
    const rotated = await service.rotate(a.server.id, created.id);
    assert.equal(rotated.id, created.id);
    assert.ok(
      rotated.previousKeyExpiresAt && Date.parse(rotated.previousKeyExpiresAt) > Date.now() + 500_000,
    );
    assert.equal(await authenticates(rotated.key), a.server.id);
    assert.equal(await authenticates(created.key), a.server.id);
    await service.revoke(a.server.id, created.id);
    assert.equal((await problem(service.rotate(a.server.id, created.id))).status, 409);
    assert.equal((await problem(service.rotate(a.server.id, newId('key')))).status, 404);
  });

  it('records api_key.created, api_key.rotated and api_key.revoked (once) on the key’s server only', async () => {
    const events = gw.get(EventRepository);
    const created = await service.create(a.server.id, { name: 'evented', appAddress });
    await service.rotate(a.server.id, created.id);
    await service.revoke(a.server.id, created.id);
    await service.revoke(a.server.id, created.id);
    const mine = (await events.list(a.server.id, { limit: 200 })).filter(
      (e) => e.data.apiKeyId === created.id,
    );
    assert.deepEqual(
      mine.map((e) => e.type),
      ['api_key.revoked', 'api_key.rotated', 'api_key.created'],
    );
    assert.deepEqual(mine[2].data, { apiKeyId: created.id, appAddress: appAddress.toLowerCase() });
    const theirs = await events.list(b.server.id, { limit: 200 });
    assert.equal(
      theirs.some((e) => e.data.apiKeyId === created.id),
      false,
    );
  });

  it('revokes; unknown and malformed ids are 404', async () => {
    const created = await service.create(a.server.id, { name: 'short-lived', appAddress });
    await service.revoke(a.server.id, created.id);
    assert.ok((await keys.find(a.server.id, created.id))?.revokedAt);
    assert.equal((await problem(service.revoke(a.server.id, newId('key')))).status, 404);
    assert.equal((await problem(service.revoke(a.server.id, 'nope'))).status, 404);
  });

  it("cross-tenant: B can neither list, revoke nor rotate A's keys", async () => {
    const keyA = await service.create(a.server.id, { name: 'A only', appAddress });
    assert.equal((await problem(service.revoke(b.server.id, keyA.id))).status, 404);
    assert.equal((await problem(service.rotate(b.server.id, keyA.id))).status, 404);
    assert.equal(
      (await service.list(b.server.id, { limit: 50 })).items.some((k) => k.id === keyA.id),
      false,
    );
    const still = await keys.find(a.server.id, keyA.id);
    assert.equal(still?.revokedAt, null);
    assert.equal(still?.previousSecretHash, null, 'not rotated');
    assert.equal(await authenticates(keyA.key), a.server.id);
  });
});
