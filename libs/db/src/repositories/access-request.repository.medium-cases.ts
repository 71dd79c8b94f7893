import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '@hearth/ids';
import { randomBytes } from 'node:crypto';
import { ApiKeyEntity } from '../entities/api-key.entity';
import {
  randomAddress,
  type RepositoryTesting,
  repositoryTesting,
  type SeededServer,
  seedServer,
  tenantSnapshot,
} from '../testing';
import { AccessRequestRepository, type NewAccessRequest } from './access-request.repository';
import type { NewApiKey } from './api-key.repository';

function newRequest(overrides: Partial<NewAccessRequest> = {}): NewAccessRequest {
  return {
    id: newId('arq'),
    appAddress: randomAddress(),
    appName: 'app',
    operations: ['stats'],
    fileIds: [newId('fil')],
    allFiles: false,
    grantExpiresAt: null,
    purpose: 'to count words',
    returnUrl: null,
    origins: null,
    nonce: randomBytes(32),
    signature: randomBytes(65),
    expiresAt: new Date(Date.now() + 3_600_000),
    ...overrides,
  };
}

function newKey(appAddress: string): NewApiKey {
  return {
    id: newId('key'),
    name: 'app',
    appAddress,
    secretHash: randomBytes(32),
    secretPrefix: 'hth_live_ab',
    operations: ['stats'],
    origins: null,
    ratePerMinute: 60,
  };
}

describe('AccessRequestRepository (real Postgres)', () => {
  let db: RepositoryTesting;
  let requests: AccessRequestRepository;
  let a: SeededServer;
  let b: SeededServer;

  before(async () => {
    db = await repositoryTesting([AccessRequestRepository]);
    requests = db.get(AccessRequestRepository);
  });
  after(() => db.close());
  beforeEach(async () => {
    a = await seedServer(db.dataSource);
    b = await seedServer(db.dataSource);
  });

  describe('create and find', () => {
    it('files a pending request, found by server and id, and by id alone', async () => {
      const input = newRequest({ appAddress: '0xABCDEF0000000000000000000000000000000001' });
      const created = await requests.create(a.server.id, input);
      assert.equal(created?.status, 'pending');
      assert.equal(created?.appAddress, '0xabcdef0000000000000000000000000000000001');
      assert.ok(created?.createdAt instanceof Date);
      assert.deepEqual((await requests.find(a.server.id, input.id))?.fileIds, input.fileIds);
      assert.equal((await requests.findById(input.id))?.serverId, a.server.id);
    });

    it('refuses a nonce used before (a replay) and writes nothing, even on another server', async () => {
      const first = newRequest();
      await requests.create(a.server.id, first);
      const before = await tenantSnapshot(db.dataSource, b.server.id);
      assert.equal(await requests.create(b.server.id, newRequest({ nonce: first.nonce })), null);
      assert.equal(await requests.create(a.server.id, newRequest({ nonce: first.nonce })), null);
      assert.deepEqual(await tenantSnapshot(db.dataSource, b.server.id), before);
    });

    it("cross-tenant: B's id never finds A's request", async () => {
      const input = newRequest();
      await requests.create(a.server.id, input);
      assert.equal(await requests.find(b.server.id, input.id), null);
    });
  });

  describe('list', () => {
    it('pages in id order, filters by status (expired = pending past expiry), never another tenant', async () => {
      const r1 = newRequest();
      const r2 = newRequest({ expiresAt: new Date(Date.now() - 1000) });
      const r3 = newRequest();
      for (const r of [r1, r2, r3]) await requests.create(a.server.id, r);
      await requests.create(b.server.id, newRequest());
      await requests.deny(a.server.id, r3.id);
      assert.deepEqual(
        (await requests.list(a.server.id, { limit: 1 })).map((r) => r.id),
        [r1.id, r2.id],
      );
      assert.deepEqual(
        (await requests.list(a.server.id, { limit: 10, cursor: r1.id })).map((r) => r.id),
        [r2.id, r3.id],
      );
      assert.deepEqual(
        (await requests.list(a.server.id, { limit: 10, status: 'pending' })).map((r) => r.id),
        [r1.id],
      );
      assert.deepEqual(
        (await requests.list(a.server.id, { limit: 10, status: 'expired' })).map((r) => r.id),
        [r2.id],
      );
      assert.deepEqual(
        (await requests.list(a.server.id, { limit: 10, status: 'denied' })).map((r) => r.id),
        [r3.id],
      );
      assert.equal((await requests.list(b.server.id, { limit: 10 })).length, 1);
    });
  });

  describe('deny', () => {
    it('denies a pending request once; never a lapsed one', async () => {
      const r = newRequest();
      await requests.create(a.server.id, r);
      const denied = await requests.deny(a.server.id, r.id);
      assert.equal(denied?.status, 'denied');
      assert.ok(denied?.decidedAt instanceof Date);
      assert.equal(await requests.deny(a.server.id, r.id), null);
      const lapsed = newRequest({ expiresAt: new Date(Date.now() - 1000) });
      await requests.create(a.server.id, lapsed);
      assert.equal(await requests.deny(a.server.id, lapsed.id), null);
    });

    it("cross-tenant: B cannot deny A's request", async () => {
      const r = newRequest();
      await requests.create(a.server.id, r);
      const before = await tenantSnapshot(db.dataSource, a.server.id);
      assert.equal(await requests.deny(b.server.id, r.id), null);
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before);
    });
  });

  describe('approveWithKey and claimKey', () => {
    it('approves with its key in one go, then delivers the key once with its new secret', async () => {
      const r = newRequest();
      await requests.create(a.server.id, r);
      const key = newKey(r.appAddress);
      const approved = await requests.approveWithKey(a.server.id, r.id, '7', key);
      assert.equal(approved?.status, 'approved');
      assert.equal(approved?.grantId, '7');
      assert.equal(approved?.keyId, key.id);
      assert.equal(await requests.approveWithKey(a.server.id, r.id, '8', newKey(r.appAddress)), null);

      const secret = { secretHash: randomBytes(32), secretPrefix: 'hth_live_cd' };
      assert.deepEqual(await requests.claimKey(a.server.id, r.id, secret), { keyId: key.id });
      const row = await db.dataSource.getRepository(ApiKeyEntity).findOneByOrFail({ id: key.id });
      assert.ok(row.secretHash.equals(secret.secretHash));
      assert.equal(row.secretPrefix, 'hth_live_cd');
      assert.equal(row.serverId, a.server.id);
      assert.equal(
        await requests.claimKey(a.server.id, r.id, { secretHash: randomBytes(32), secretPrefix: 'x' }),
        null,
      );
      const after = await db.dataSource.getRepository(ApiKeyEntity).findOneByOrFail({ id: key.id });
      assert.ok(after.secretHash.equals(secret.secretHash), 'a second claim changes nothing');
    });

    it('approves nothing lapsed or denied, and creates no key then', async () => {
      const lapsed = newRequest({ expiresAt: new Date(Date.now() - 1000) });
      await requests.create(a.server.id, lapsed);
      const key = newKey(lapsed.appAddress);
      assert.equal(await requests.approveWithKey(a.server.id, lapsed.id, '1', key), null);
      assert.equal(await db.dataSource.getRepository(ApiKeyEntity).findOneBy({ id: key.id }), null);
      assert.equal(
        await requests.claimKey(a.server.id, lapsed.id, { secretHash: randomBytes(32), secretPrefix: 'x' }),
        null,
      );
    });

    it('claims nothing whose key was revoked since approval, and leaves the request unclaimed', async () => {
      const r = newRequest();
      await requests.create(a.server.id, r);
      const key = newKey(r.appAddress);
      await requests.approveWithKey(a.server.id, r.id, '3', key);
      await db.dataSource.getRepository(ApiKeyEntity).update({ id: key.id }, { revokedAt: new Date() });
      assert.equal(
        await requests.claimKey(a.server.id, r.id, { secretHash: randomBytes(32), secretPrefix: 'x' }),
        null,
      );
      assert.equal((await requests.find(a.server.id, r.id))?.keyClaimedAt, null);
    });

    it("cross-tenant: B cannot approve or claim A's request, and A's rows stay as they were", async () => {
      const r = newRequest();
      await requests.create(a.server.id, r);
      const before = await tenantSnapshot(db.dataSource, a.server.id);
      const key = newKey(r.appAddress);
      assert.equal(await requests.approveWithKey(b.server.id, r.id, '1', key), null);
      assert.equal(await db.dataSource.getRepository(ApiKeyEntity).findOneBy({ id: key.id }), null);
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before);

      await requests.approveWithKey(a.server.id, r.id, '1', key);
      const approved = await tenantSnapshot(db.dataSource, a.server.id);
      assert.equal(
        await requests.claimKey(b.server.id, r.id, { secretHash: randomBytes(32), secretPrefix: 'x' }),
        null,
      );
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), approved);
    });
  });
});
