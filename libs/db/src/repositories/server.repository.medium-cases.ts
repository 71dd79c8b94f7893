import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '@hearth/ids';
import { randomBytes } from 'node:crypto';
import { AccountEntity } from '../entities/account.entity';
import { MemberEntity } from '../entities/member.entity';
import { ServerEntity } from '../entities/server.entity';
import {
  randomAddress,
  type RepositoryTesting,
  repositoryTesting,
  seedApiKey,
  type SeededServer,
  seedFile,
  seedMember,
  seedServer,
  tenantSnapshot,
} from '../testing';
import { type NewServerIdentity, ServerRepository } from './server.repository';

function identity(): NewServerIdentity {
  return {
    name: 'made here',
    kmsKeyRef: `ref-${randomBytes(4).toString('hex')}`,
    address: randomAddress(),
    publicKey: `0x04${randomBytes(64).toString('hex')}`,
    wrappedIdentityKey: randomBytes(48),
  };
}

describe('ServerRepository (real Postgres)', () => {
  let db: RepositoryTesting;
  let servers: ServerRepository;
  let a: SeededServer;
  let b: SeededServer;

  before(async () => {
    db = await repositoryTesting([ServerRepository]);
    servers = db.get(ServerRepository);
  });
  after(() => db.close());
  beforeEach(async () => {
    a = await seedServer(db.dataSource);
    b = await seedServer(db.dataSource);
  });

  describe('findById and findPersonalByOwner', () => {
    it("find the server by its id and an account's personal server", async () => {
      assert.equal((await servers.findById(a.server.id))?.ownerAccountId, a.account.id);
      assert.equal(await servers.findById(newId('srv')), null);
      assert.equal((await servers.findPersonalByOwner(a.account.id))?.id, a.server.id);
    });

    it("cross-tenant: B's ids find B's server, never A's", async () => {
      assert.equal((await servers.findById(b.server.id))?.id, b.server.id);
      assert.equal((await servers.findPersonalByOwner(b.account.id))?.id, b.server.id);
      const collective = await seedServer(db.dataSource, {
        kind: 'collective',
        ownerAddress: b.account.address,
      });
      assert.equal((await servers.findPersonalByOwner(b.account.id))?.id, b.server.id, 'not the collective');
      assert.notEqual(collective.server.id, b.server.id);
    });
  });

  describe('findPersonalByOwnerAddress', () => {
    it("finds the owner's personal server by wallet address in any case, never a collective or another's", async () => {
      assert.equal(
        (await servers.findPersonalByOwnerAddress(a.account.address.toUpperCase().replace('0X', '0x')))?.id,
        a.server.id,
      );
      const collective = await seedServer(db.dataSource, {
        kind: 'collective',
        ownerAddress: b.account.address,
      });
      assert.equal((await servers.findPersonalByOwnerAddress(b.account.address))?.id, b.server.id);
      assert.notEqual(collective.server.id, b.server.id);
      assert.equal(await servers.findPersonalByOwnerAddress(randomAddress()), null);
    });
  });

  describe('findWithRole', () => {
    it('gives the owner, a member their role, and a stranger nothing', async () => {
      const collective = await seedServer(db.dataSource, {
        kind: 'collective',
        ownerAddress: a.account.address,
      });
      const member = await seedMember(db.dataSource, collective.server.id, { role: 'member' });
      assert.equal(
        (await servers.findWithRole(collective.server.id, a.account.id, a.account.address))?.role,
        'owner',
      );
      assert.equal(
        (await servers.findWithRole(collective.server.id, newId('acc'), member.address.toUpperCase()))?.role,
        'member',
      );
      assert.equal(await servers.findWithRole(collective.server.id, b.account.id, b.account.address), null);
    });

    it("cross-tenant: B's owner has no role on A, and A's member has none on B", async () => {
      const member = await seedMember(db.dataSource, a.server.id, { role: 'admin' });
      assert.equal(await servers.findWithRole(a.server.id, b.account.id, b.account.address), null);
      assert.equal(await servers.findWithRole(b.server.id, newId('acc'), member.address), null);
      assert.equal(await servers.findWithRole(b.server.id, a.account.id, a.account.address), null);
    });
  });

  describe('listForAccount', () => {
    it('lists owned servers and collectives the address is a member of, in id order, limit + 1 rows', async () => {
      const c1 = await seedServer(db.dataSource, { kind: 'collective' });
      await seedMember(db.dataSource, c1.server.id, { address: a.account.address });
      const c2 = await seedServer(db.dataSource, { kind: 'collective', ownerAddress: a.account.address });
      const all = await servers.listForAccount(a.account.id, a.account.address.toUpperCase(), { limit: 10 });
      assert.deepEqual(
        all.map((s) => s.id),
        [a.server.id, c1.server.id, c2.server.id],
      );
      assert.deepEqual(
        (
          await servers.listForAccount(a.account.id, a.account.address, { limit: 1, cursor: a.server.id })
        ).map((s) => s.id),
        [c1.server.id, c2.server.id],
      );
    });

    it("cross-tenant: B's account lists none of A's servers", async () => {
      assert.deepEqual(
        (await servers.listForAccount(b.account.id, b.account.address, { limit: 10 })).map((s) => s.id),
        [b.server.id],
      );
    });
  });

  describe('createPersonal', () => {
    it('creates the account and its personal server in one go; a second one for the account is refused', async () => {
      const owner = randomAddress();
      const serverId = newId('srv');
      const created = await servers.createPersonal(serverId, {
        accountId: newId('acc'),
        ownerAddress: owner,
        server: identity(),
      });
      assert.ok(created);
      assert.equal(created.server.id, serverId);
      assert.equal(created.server.kind, 'personal');
      assert.equal(created.server.policyKind, 'grants');
      assert.equal(created.account.address, owner);
      assert.equal(created.server.ownerAccountId, created.account.id);
      const second = await servers.createPersonal(newId('srv'), {
        accountId: newId('acc'),
        ownerAddress: owner,
        server: identity(),
      });
      assert.equal(second, null);
      assert.equal(
        await db.dataSource.getRepository(ServerEntity).countBy({ ownerAccountId: created.account.id }),
        1,
      );
    });

    it("cross-tenant: creating B's server under A's id fails and changes nothing of A", async () => {
      const before = await tenantSnapshot(db.dataSource, a.server.id);
      await assert.rejects(
        servers.createPersonal(a.server.id, {
          accountId: newId('acc'),
          ownerAddress: randomAddress(),
          server: identity(),
        }),
      );
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before);
    });
  });

  describe('createCollective', () => {
    it('creates the collective and its creator as admin, in one transaction', async () => {
      const serverId = newId('srv');
      const memberId = newId('mem');
      const whitelist = randomAddress();
      const server = await servers.createCollective(serverId, {
        ownerAccountId: a.account.id,
        ownerAddress: a.account.address,
        server: identity(),
        whitelistAddress: whitelist,
        kThreshold: 3,
        admin: { memberId, kmsKeyRef: 'member-key' },
      });
      assert.equal(server.kind, 'collective');
      assert.equal(server.policyKind, 'whitelist');
      assert.equal(server.policyAddress, whitelist);
      assert.equal(server.kThreshold, 3);
      const admin = await db.dataSource.getRepository(MemberEntity).findOneByOrFail({ serverId });
      assert.deepEqual(
        [admin.id, admin.address, admin.role, admin.kmsKeyRef],
        [memberId, a.account.address, 'admin', 'member-key'],
      );
    });

    it('leaves no server behind when the membership cannot be written', async () => {
      const taken = await seedMember(db.dataSource, a.server.id);
      const serverId = newId('srv');
      await assert.rejects(
        servers.createCollective(serverId, {
          ownerAccountId: a.account.id,
          ownerAddress: a.account.address,
          server: identity(),
          whitelistAddress: randomAddress(),
          kThreshold: 5,
          admin: { memberId: taken.id, kmsKeyRef: 'k' },
        }),
      );
      assert.equal(await servers.findById(serverId), null);
    });

    it("cross-tenant: creating under A's server id fails and changes nothing of A", async () => {
      const before = await tenantSnapshot(db.dataSource, a.server.id);
      await assert.rejects(
        servers.createCollective(a.server.id, {
          ownerAccountId: b.account.id,
          ownerAddress: b.account.address,
          server: identity(),
          whitelistAddress: randomAddress(),
          kThreshold: 5,
          admin: { memberId: newId('mem'), kmsKeyRef: 'k' },
        }),
      );
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before);
    });
  });

  describe('setPolicy', () => {
    it('sets the policy of the server', async () => {
      const contract = randomAddress();
      assert.equal(await servers.setPolicy(a.server.id, 'contract', contract), true);
      const after = await servers.findById(a.server.id);
      assert.deepEqual([after?.policyKind, after?.policyAddress], ['contract', contract]);
      assert.equal(await servers.setPolicy(newId('srv'), 'grants', null), false);
    });

    it("cross-tenant: B's id changes nothing of A", async () => {
      const before = await tenantSnapshot(db.dataSource, a.server.id);
      assert.equal(await servers.setPolicy(b.server.id, 'contract', randomAddress()), true);
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before);
    });
  });

  describe('delete', () => {
    it("deletes the server and its rows (keys, files, members cascade), not the owner's account", async () => {
      await seedApiKey(db.dataSource, a.server.id);
      await seedFile(db.dataSource, a.server.id);
      await seedMember(db.dataSource, a.server.id);
      assert.equal(await servers.delete(a.server.id), true);
      const left = await tenantSnapshot(db.dataSource, a.server.id);
      assert.deepEqual(
        Object.entries(left).filter(([, rows]) => rows.length > 0),
        [],
      );
      assert.ok(await db.dataSource.getRepository(AccountEntity).findOneBy({ id: a.account.id }));
      assert.equal(await servers.delete(a.server.id), false);
    });

    it('cross-tenant: deleting B leaves every row of A', async () => {
      await seedApiKey(db.dataSource, a.server.id);
      await seedFile(db.dataSource, a.server.id);
      const before = await tenantSnapshot(db.dataSource, a.server.id);
      assert.equal(await servers.delete(b.server.id), true);
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before);
    });
  });
});
