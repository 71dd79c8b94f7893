import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '@hearth/ids';
import { randomBytes } from 'node:crypto';
import {
  randomAddress,
  type RepositoryTesting,
  repositoryTesting,
  seedApiKey,
  type SeededServer,
  seedServer,
  tenantSnapshot,
} from '../testing';
import { ApiKeyRepository, type NewApiKey } from './api-key.repository';

function newKey(): NewApiKey & { secretHash: Buffer } {
  return {
    id: newId('key'),
    name: 'app',
    appAddress: randomAddress(),
    secretHash: randomBytes(32),
    secretPrefix: 'hth_live_ab',
    operations: ['word_count'],
    origins: null,
    ratePerMinute: 60,
  };
}

describe('ApiKeyRepository (real Postgres)', () => {
  let db: RepositoryTesting;
  let keys: ApiKeyRepository;
  let a: SeededServer;
  let b: SeededServer;

  before(async () => {
    db = await repositoryTesting([ApiKeyRepository]);
    keys = db.get(ApiKeyRepository);
  });
  after(() => db.close());
  beforeEach(async () => {
    a = await seedServer(db.dataSource);
    b = await seedServer(db.dataSource);
  });

  describe('create and find', () => {
    it('creates a key of the server and finds it by id', async () => {
      const input = newKey();
      const created = await keys.create(a.server.id, input);
      assert.equal(created.serverId, a.server.id);
      const found = await keys.find(a.server.id, input.id);
      assert.deepEqual(found?.operations, ['word_count']);
      assert.equal(found?.revokedAt, null);
      assert.ok(found?.secretHash.equals(input.secretHash));
    });

    it("cross-tenant: creating for B leaves A alone, and B's id never finds A's key", async () => {
      const keyA = await seedApiKey(db.dataSource, a.server.id);
      const before = await tenantSnapshot(db.dataSource, a.server.id);
      await keys.create(b.server.id, newKey());
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before);
      assert.equal(await keys.find(b.server.id, keyA.id), null);
    });

    it("cross-tenant: creating for B under A's key id fails and leaves A's key as it was", async () => {
      const keyA = await seedApiKey(db.dataSource, a.server.id);
      const before = await tenantSnapshot(db.dataSource, a.server.id);
      await assert.rejects(keys.create(b.server.id, { ...newKey(), id: keyA.id }));
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before);
      assert.deepEqual(await keys.list(b.server.id, { limit: 10 }), []);
    });
  });

  describe('list', () => {
    it('lists in id order, limit + 1 rows, after a cursor', async () => {
      const k1 = await seedApiKey(db.dataSource, a.server.id);
      const k2 = await seedApiKey(db.dataSource, a.server.id);
      const k3 = await seedApiKey(db.dataSource, a.server.id);
      assert.deepEqual(
        (await keys.list(a.server.id, { limit: 1 })).map((k) => k.id),
        [k1.id, k2.id],
      );
      assert.deepEqual(
        (await keys.list(a.server.id, { limit: 5, cursor: k1.id })).map((k) => k.id),
        [k2.id, k3.id],
      );
    });

    it("cross-tenant: B's list holds none of A's keys", async () => {
      await seedApiKey(db.dataSource, a.server.id);
      assert.deepEqual(await keys.list(b.server.id, { limit: 10 }), []);
    });
  });

  describe('revoke', () => {
    it('revokes once (idempotent), false for an unknown key', async () => {
      const key = await seedApiKey(db.dataSource, a.server.id);
      assert.equal(await keys.revoke(a.server.id, key.id), true);
      const first = (await keys.find(a.server.id, key.id))?.revokedAt;
      assert.ok(first instanceof Date);
      assert.equal(await keys.revoke(a.server.id, key.id), true);
      assert.equal((await keys.find(a.server.id, key.id))?.revokedAt?.getTime(), first.getTime());
      assert.equal(await keys.revoke(a.server.id, newId('key')), false);
    });

    it("cross-tenant: B's id revokes nothing of A", async () => {
      const keyA = await seedApiKey(db.dataSource, a.server.id);
      const before = await tenantSnapshot(db.dataSource, a.server.id);
      assert.equal(await keys.revoke(b.server.id, keyA.id), false);
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before);
    });
  });

  describe('rotate', () => {
    it('swaps the secret, keeps the old one within grace, and never rotates a revoked key', async () => {
      const key = await seedApiKey(db.dataSource, a.server.id);
      const next = { secretHash: randomBytes(32), secretPrefix: 'hth_live_cd' };
      const rotated = await keys.rotate(a.server.id, key.id, next, 60);
      assert.ok(rotated);
      assert.ok(rotated.secretHash.equals(next.secretHash));
      assert.ok(rotated.previousSecretHash?.equals(key.secretHash));
      assert.ok(rotated.previousSecretExpiresAt && rotated.previousSecretExpiresAt.getTime() > Date.now());
      assert.equal((await keys.findBySecretHash(key.secretHash))?.matched, 'previous');
      assert.equal((await keys.findBySecretHash(next.secretHash))?.matched, 'current');
      await keys.revoke(a.server.id, key.id);
      assert.equal(
        await keys.rotate(a.server.id, key.id, { secretHash: randomBytes(32), secretPrefix: 'x' }, 60),
        null,
      );
    });

    it('with no grace, the old secret stops at once', async () => {
      const key = await seedApiKey(db.dataSource, a.server.id);
      await keys.rotate(a.server.id, key.id, { secretHash: randomBytes(32), secretPrefix: 'x' }, 0);
      assert.equal(await keys.findBySecretHash(key.secretHash), null);
    });

    it("cross-tenant: B's id rotates nothing of A", async () => {
      const keyA = await seedApiKey(db.dataSource, a.server.id);
      const before = await tenantSnapshot(db.dataSource, a.server.id);
      assert.equal(
        await keys.rotate(b.server.id, keyA.id, { secretHash: randomBytes(32), secretPrefix: 'x' }, 60),
        null,
      );
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before);
    });
  });

  describe('findBySecretHash', () => {
    it("finds the key with its own server's policy data", async () => {
      const keyA = await seedApiKey(db.dataSource, a.server.id);
      const match = await keys.findBySecretHash(keyA.secretHash);
      assert.equal(match?.key.id, keyA.id);
      assert.equal(match?.matched, 'current');
      assert.deepEqual(match?.server, {
        id: a.server.id,
        kind: a.server.kind,
        address: a.server.address,
        publicKey: a.server.publicKey,
        ownerAddress: a.server.ownerAddress,
        kmsKeyRef: a.server.kmsKeyRef,
        policyKind: a.server.policyKind,
        policyAddress: a.server.policyAddress,
      });
      assert.equal(await keys.findBySecretHash(randomBytes(32)), null);
    });

    it("cross-tenant: B's secret names B's key and server, never A's", async () => {
      await seedApiKey(db.dataSource, a.server.id);
      const keyB = await seedApiKey(db.dataSource, b.server.id);
      const match = await keys.findBySecretHash(keyB.secretHash);
      assert.equal(match?.key.id, keyB.id);
      assert.equal(match?.server.id, b.server.id);
      assert.equal(match?.server.kmsKeyRef, b.server.kmsKeyRef);
    });
  });
});
