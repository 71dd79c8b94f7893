import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileKeyContext, isKeyManagerError } from '@hearth/kms';
import { EventRepository, FileEntity, MemberEntity, type ServerEntity, ServerRepository } from '@hearth/db';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { getAddress } from 'viem';
import { mediumGateway, type MediumGateway, type Tenant, problem } from '../../../../test/support/medium';
import { Chain } from '../chain/chain.module';
import { FilesModule } from '../files/files.module';
import { FilesService } from '../files/files.service';
import { CollectivesModule } from './collectives.module';
import { CollectivesService } from './collectives.service';

/** The chain faked: deploying a Whitelist answers with a fresh address at once. */
const deployed: string[] = [];
const fakeChain = {
  relayer: {
    deployWhitelist: async () => {
      const address = getAddress(`0x${randomBytes(20).toString('hex')}`);
      deployed.push(address);
      return { address, txHash: `0x${'0'.repeat(64)}` };
    },
  },
};

function upload(body: string): IncomingMessage {
  return Object.assign(Readable.from([Buffer.from(body)]), {
    headers: { 'content-type': 'text/plain' },
  }) as unknown as IncomingMessage;
}

describe('CollectivesService (real Postgres, local key manager, chain faked)', () => {
  let gw: MediumGateway;
  let collectives: CollectivesService;
  let files: FilesService;
  let owner: Tenant;

  before(async () => {
    gw = await mediumGateway({
      imports: [CollectivesModule, FilesModule],
      override: (b) => b.overrideProvider(Chain).useValue(fakeChain),
    });
    collectives = gw.get(CollectivesService);
    files = gw.get(FilesService);
    owner = await gw.tenant();
  });
  after(() => gw.close());

  const keyAlive = async (keyRef: string, serverId: string) =>
    gw.keys.generateDataKey(keyRef, fileKeyContext(serverId, 'fil_probe')).then(
      () => true,
      (err: unknown) => {
        if (isKeyManagerError(err, 'key_destroyed') || isKeyManagerError(err, 'key_not_found')) return false;
        throw err;
      },
    );

  it('creates a collective with its own tenant key, identity and Whitelist; the creator is its first admin', async () => {
    const view = await collectives.create(owner.account, { kind: 'collective', name: 'Circle', k: 3 });
    assert.equal(view.kind, 'collective');
    assert.equal(view.owner, owner.account.address);
    assert.deepEqual(view.policy, { kind: 'whitelist', address: deployed.at(-1) });
    const server = await gw.get(ServerRepository).findById(view.id);
    assert.ok(server);
    assert.equal(server.kThreshold, 3);
    assert.notEqual(server.kmsKeyRef, owner.server.kmsKeyRef);
    assert.ok(await keyAlive(server.kmsKeyRef, server.id));
    const members = await collectives.listMembers(server, { limit: 10 });
    assert.deepEqual(
      members.items.map((m) => [m.address, m.role]),
      [[owner.account.address, 'admin']],
    );
    const admin = await gw.dataSource.getRepository(MemberEntity).findOneByOrFail({ serverId: server.id });
    assert.ok(admin.kmsKeyRef && (await keyAlive(admin.kmsKeyRef, server.id)));
  });

  it('refuses a personal server here (400), before any chain work', async () => {
    const before = deployed.length;
    const err = await problem(collectives.create(owner.account, { kind: 'personal', name: 'x' }));
    assert.equal(err.status, 400);
    assert.equal(deployed.length, before);
  });

  it('adds members (admins only; the same address twice is 409) and lists them in joining order', async () => {
    const collective = await gw.collective(owner);
    const newcomer = await gw.tenant();
    const view = await collectives.addMember(collective, 'owner', {
      address: newcomer.account.address,
      role: 'member',
    });
    assert.deepEqual([view.address, view.role], [newcomer.account.address, 'member']);
    const row = await gw.dataSource.getRepository(MemberEntity).findOneByOrFail({ id: view.id });
    assert.ok(row.kmsKeyRef && (await keyAlive(row.kmsKeyRef, collective.id)));
    const again = await problem(
      collectives.addMember(collective, 'admin', {
        address: newcomer.account.address.toLowerCase(),
        role: 'admin',
      }),
    );
    assert.equal(again.status, 409);
    const notAdmin = await problem(
      collectives.addMember(collective, 'member', {
        address: (await gw.tenant()).account.address,
        role: 'member',
      }),
    );
    assert.equal(notAdmin.status, 403);
    const page = await collectives.listMembers(collective, { limit: 1 });
    assert.equal(page.items.length, 1);
    assert.ok(page.nextCursor);
    const rest = await collectives.listMembers(collective, { limit: 10, cursor: page.nextCursor });
    assert.deepEqual(
      rest.items.map((m) => m.id),
      [view.id],
    );
  });

  it('records member.joined and member.left on the collective, ids and addresses only', async () => {
    const collective = await gw.collective(owner);
    const other = await gw.collective(owner);
    const newcomer = await gw.tenant();
    const address = newcomer.account.address.toLowerCase();
    const view = await collectives.addMember(collective, 'owner', { address, role: 'member' });
    await collectives.removeMember(collective, 'owner', owner.account, address);
    const events = await gw.get(EventRepository).list(collective.id, { limit: 10 });
    assert.deepEqual(
      events.map((e) => [e.type, e.data]),
      [
        ['member.left', { memberId: view.id, address }],
        ['member.joined', { memberId: view.id, address, role: 'member' }],
      ],
    );
    assert.deepEqual(await gw.get(EventRepository).list(other.id, { limit: 10 }), [], 'cross-tenant');
  });

  it("removes a member: their key is destroyed, their files go, everyone else's stay", async () => {
    const collective = await gw.collective(owner);
    const leaving = await gw.member(collective);
    const staying = await gw.member(collective);
    await files.upload(collective, leaving.account, 'l.txt', upload('leaving'));
    const kept = await files.upload(collective, staying.account, 's.txt', upload('staying'));
    await collectives.removeMember(collective, 'owner', owner.account, leaving.account.address);
    assert.equal(await keyAlive(leaving.member.kmsKeyRef!, collective.id), false, 'crypto-shredded');
    assert.ok(await keyAlive(staying.member.kmsKeyRef!, collective.id));
    const left = await gw.dataSource.getRepository(FileEntity).findBy({ serverId: collective.id });
    assert.deepEqual(
      left.map((f) => f.id),
      [kept.id],
    );
    const names = (await collectives.listMembers(collective, { limit: 10 })).items.map((m) => m.address);
    assert.deepEqual(names.sort(), [owner.account.address, staying.account.address].sort());
    assert.equal(
      (await problem(collectives.removeMember(collective, 'owner', owner.account, leaving.account.address)))
        .status,
      404,
    );
    assert.equal(
      (await problem(collectives.removeMember(collective, 'owner', owner.account, owner.account.address)))
        .status,
      409,
      'the creator cannot leave',
    );
  });

  it('cross-tenant: acting on collective B never touches collective A, even for a member of both', async () => {
    const collectiveA = await gw.collective(owner);
    const otherOwner = await gw.tenant();
    const collectiveB: ServerEntity = await gw.collective(otherOwner);
    const both = await gw.tenant();
    const inA = await gw.member(collectiveA, 'member', both);
    await gw.member(collectiveB, 'member', both);
    const fileA = await files.upload(collectiveA, both.account, 'a.txt', upload('in A'));
    await files.upload(collectiveB, both.account, 'b.txt', upload('in B'));
    const onlyInA = await gw.member(collectiveA);

    // B's admin asks for A's members: unknown in B.
    assert.equal(
      (
        await problem(
          collectives.removeMember(collectiveB, 'owner', otherOwner.account, onlyInA.account.address),
        )
      ).status,
      404,
    );
    assert.deepEqual(
      (await collectives.listMembers(collectiveB, { limit: 10 })).items.map((m) => m.address).sort(),
      [otherOwner.account.address, both.account.address].sort(),
    );
    // Adding A's member to B is B's own membership.
    await collectives.addMember(collectiveB, 'owner', { address: onlyInA.account.address, role: 'member' });
    // Removing the shared member from B leaves their membership, key and file in A.
    await collectives.removeMember(collectiveB, 'owner', otherOwner.account, both.account.address);
    assert.ok(await gw.dataSource.getRepository(MemberEntity).findOneBy({ id: inA.member.id }));
    assert.ok(await keyAlive(inA.member.kmsKeyRef!, collectiveA.id));
    assert.ok(await gw.dataSource.getRepository(FileEntity).findOneBy({ id: fileA.id }));
    assert.equal(await gw.dataSource.getRepository(FileEntity).countBy({ serverId: collectiveB.id }), 0);
    assert.deepEqual(
      (await collectives.listMembers(collectiveA, { limit: 10 })).items.map((m) => m.address).sort(),
      [owner.account.address, both.account.address, onlyInA.account.address].sort(),
    );
  });
});
