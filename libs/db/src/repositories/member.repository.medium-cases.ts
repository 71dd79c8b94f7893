import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '@hearth/ids';
import { FileEntity } from '../entities/file.entity';
import { MemberEntity } from '../entities/member.entity';
import {
  randomAddress,
  type RepositoryTesting,
  repositoryTesting,
  type SeededServer,
  seedFile,
  seedMember,
  seedServer,
  tenantSnapshot,
} from '../testing';
import { MemberRepository } from './member.repository';

describe('MemberRepository (real Postgres)', () => {
  let db: RepositoryTesting;
  let members: MemberRepository;
  let a: SeededServer;
  let b: SeededServer;

  before(async () => {
    db = await repositoryTesting([MemberRepository]);
    members = db.get(MemberRepository);
  });
  after(() => db.close());
  beforeEach(async () => {
    a = await seedServer(db.dataSource, { kind: 'collective' });
    b = await seedServer(db.dataSource, { kind: 'collective' });
  });

  describe('findByAddress and exists', () => {
    it('find a member by address in any case', async () => {
      const m = await seedMember(db.dataSource, a.server.id);
      assert.equal((await members.findByAddress(a.server.id, m.address.toUpperCase()))?.id, m.id);
      assert.equal(await members.exists(a.server.id, m.address.toUpperCase()), true);
      assert.equal(await members.findByAddress(a.server.id, randomAddress()), null);
      assert.equal(await members.exists(a.server.id, randomAddress()), false);
    });

    it("cross-tenant: A's member is nobody in B", async () => {
      const m = await seedMember(db.dataSource, a.server.id);
      assert.equal(await members.findByAddress(b.server.id, m.address), null);
      assert.equal(await members.exists(b.server.id, m.address), false);
    });
  });

  describe('add', () => {
    it('adds a member (address stored lowercase) and answers null for an address already in', async () => {
      const address = randomAddress().toUpperCase().replace('0X', '0x');
      const added = await members.add(a.server.id, {
        id: newId('mem'),
        address,
        role: 'member',
        kmsKeyRef: 'k1',
      });
      assert.ok(added);
      assert.equal(added.serverId, a.server.id);
      assert.equal(added.address, address.toLowerCase());
      assert.equal(added.kmsKeyRef, 'k1');
      assert.ok(added.createdAt instanceof Date);
      const again = await members.add(a.server.id, {
        id: newId('mem'),
        address,
        role: 'admin',
        kmsKeyRef: 'k2',
      });
      assert.equal(again, null);
      assert.equal(await db.dataSource.getRepository(MemberEntity).countBy({ serverId: a.server.id }), 1);
    });

    it("cross-tenant: adding A's member's address to B creates B's own row and leaves A's", async () => {
      const m = await seedMember(db.dataSource, a.server.id, { role: 'admin' });
      const before = await tenantSnapshot(db.dataSource, a.server.id);
      const added = await members.add(b.server.id, {
        id: newId('mem'),
        address: m.address,
        role: 'member',
        kmsKeyRef: null,
      });
      assert.equal(added?.serverId, b.server.id);
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before);
    });
  });

  describe('list', () => {
    it('lists in joining order, limit + 1 rows, after a cursor', async () => {
      const m1 = await seedMember(db.dataSource, a.server.id);
      const m2 = await seedMember(db.dataSource, a.server.id);
      const m3 = await seedMember(db.dataSource, a.server.id);
      assert.deepEqual(
        (await members.list(a.server.id, { limit: 1 })).map((m) => m.id),
        [m1.id, m2.id],
      );
      assert.deepEqual(
        (await members.list(a.server.id, { limit: 5, cursor: m1.id })).map((m) => m.id),
        [m2.id, m3.id],
      );
    });

    it("cross-tenant: B's list holds none of A's members", async () => {
      await seedMember(db.dataSource, a.server.id);
      const mb = await seedMember(db.dataSource, b.server.id);
      assert.deepEqual(
        (await members.list(b.server.id, { limit: 10 })).map((m) => m.id),
        [mb.id],
      );
    });
  });

  describe('keyRefs', () => {
    it("lists the members' own key references (members without one are skipped)", async () => {
      const m1 = await seedMember(db.dataSource, a.server.id);
      await seedMember(db.dataSource, a.server.id, { kmsKeyRef: null });
      assert.deepEqual(await members.keyRefs(a.server.id), [m1.kmsKeyRef]);
    });

    it("cross-tenant: B's key references hold none of A's", async () => {
      await seedMember(db.dataSource, a.server.id);
      const mb = await seedMember(db.dataSource, b.server.id);
      assert.deepEqual(await members.keyRefs(b.server.id), [mb.kmsKeyRef]);
    });
  });

  describe('removeWithContributions', () => {
    it("removes the member, their files and chunks, and nobody else's", async () => {
      const leaving = await seedMember(db.dataSource, a.server.id);
      const staying = await seedMember(db.dataSource, a.server.id);
      const theirs = await Promise.all([
        seedFile(db.dataSource, a.server.id, { contributorAddress: leaving.address }),
        seedFile(db.dataSource, a.server.id, { contributorAddress: leaving.address }),
      ]);
      const other = await seedFile(db.dataSource, a.server.id, { contributorAddress: staying.address });
      assert.deepEqual(await members.removeWithContributions(a.server.id, leaving.id), { removedFiles: 2 });
      const fileRows = await db.dataSource.getRepository(FileEntity).findBy({ serverId: a.server.id });
      assert.deepEqual(
        fileRows.map((f) => f.id),
        [other.id],
      );
      const chunks = await db.dataSource.query<Array<{ file_id: string }>>(
        'SELECT DISTINCT file_id FROM file_chunks WHERE file_id = ANY($1::text[])',
        [[...theirs.map((f) => f.id), other.id]],
      );
      assert.deepEqual(
        chunks.map((c) => c.file_id),
        [other.id],
      );
      assert.equal(await members.findByAddress(a.server.id, leaving.address), null);
      assert.ok(await members.findByAddress(a.server.id, staying.address));
    });

    it('answers null for an unknown member', async () => {
      assert.equal(await members.removeWithContributions(a.server.id, newId('mem')), null);
    });

    it("cross-tenant: B's id removes nothing of A, even for an address that is a member of both", async () => {
      const address = randomAddress();
      const inA = await seedMember(db.dataSource, a.server.id, { address });
      const inB = await seedMember(db.dataSource, b.server.id, { address });
      await seedFile(db.dataSource, a.server.id, { contributorAddress: address });
      await seedFile(db.dataSource, b.server.id, { contributorAddress: address });
      const before = await tenantSnapshot(db.dataSource, a.server.id);
      assert.equal(await members.removeWithContributions(b.server.id, inA.id), null, "A's member id in B");
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before);
      assert.deepEqual(await members.removeWithContributions(b.server.id, inB.id), { removedFiles: 1 });
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before);
      assert.equal((await tenantSnapshot(db.dataSource, b.server.id)).files.length, 0);
    });
  });
});
