import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AccountRepository, ServerRepository } from '@hearth/db';
import { fileKeyContext, isKeyManagerError, type KeyManager } from '@hearth/kms';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  mediumGateway,
  type MediumGateway,
  seedFile,
  tenantSnapshot,
  type Tenant,
  problem,
} from '../../../../test/support/medium';
import { KEY_MANAGER } from '../keys/keys.module';
import { ServerProvisioner } from './server-provisioner.service';
import { ServersService } from './servers.service';

const alive = (keys: KeyManager, keyRef: string, serverId: string) =>
  keys.generateDataKey(keyRef, fileKeyContext(serverId, 'fil_probe')).then(
    () => true,
    (err: unknown) => {
      if (isKeyManagerError(err, 'key_destroyed') || isKeyManagerError(err, 'key_not_found')) return false;
      throw err;
    },
  );

describe('ServersService and ServerProvisioner (real Postgres, local key manager)', () => {
  let gw: MediumGateway;
  let servers: ServersService;
  let provisioner: ServerProvisioner;

  before(async () => {
    gw = await mediumGateway();
    servers = gw.get(ServersService);
    provisioner = gw.get(ServerProvisioner);
  });
  after(() => gw.close());

  it('provisions one personal server per address, also under concurrent sign-ins, with a live tenant key', async () => {
    const wallet = privateKeyToAccount(generatePrivateKey());
    const results = await Promise.all([1, 2, 3].map(() => provisioner.ensurePersonalServer(wallet.address)));
    assert.equal(new Set(results.map((r) => r.server.id)).size, 1);
    const { account, server } = results[0];
    assert.equal(account.address, wallet.address.toLowerCase());
    assert.deepEqual(
      [server.kind, server.ownerAddress, server.policyKind],
      ['personal', wallet.address.toLowerCase(), 'grants'],
    );
    assert.ok(await alive(gw.keys, server.kmsKeyRef, server.id));
    assert.equal((await gw.get(AccountRepository).findByAddress(wallet.address))?.id, account.id);
    assert.equal((await provisioner.ensurePersonalServer(wallet.address.toLowerCase())).server.id, server.id);
  });

  it('lists what the account owns and the collectives it is a member of', async () => {
    const [a, b] = await Promise.all([gw.tenant(), gw.tenant()]);
    const collective = await gw.collective(b);
    await gw.member(collective, 'member', a);
    const page = await servers.list(a.account, { limit: 10 });
    assert.deepEqual(
      page.items.map((s) => [s.id, s.kind]),
      [
        [a.server.id, 'personal'],
        [collective.id, 'collective'],
      ],
    );
    const first = await servers.list(a.account, { limit: 1 });
    assert.equal(first.nextCursor, a.server.id);
  });

  it("deletes a collective: its key and its members' keys first, then its rows", async () => {
    const owner = await gw.tenant();
    const collective = await gw.collective(owner);
    const { member } = await gw.member(collective);
    await seedFile(gw.dataSource, collective.id);
    await servers.delete(collective);
    assert.equal(await alive(gw.keys, collective.kmsKeyRef, collective.id), false);
    assert.equal(await alive(gw.keys, member.kmsKeyRef!, collective.id), false);
    const left = await tenantSnapshot(gw.dataSource, collective.id);
    assert.deepEqual(
      Object.entries(left).filter(([, rows]) => rows.length > 0),
      [],
    );
  });

  it("cross-tenant: deleting B leaves A's rows and key; B's list shows nothing of A", async () => {
    const [a, b]: Tenant[] = await Promise.all([gw.tenant(), gw.tenant()]);
    await seedFile(gw.dataSource, a.server.id);
    const before = await tenantSnapshot(gw.dataSource, a.server.id);
    assert.deepEqual(
      (await servers.list(b.account, { limit: 10 })).items.map((s) => s.id),
      [b.server.id],
    );
    await servers.delete(b.server);
    assert.equal(await gw.get(ServerRepository).findById(b.server.id), null);
    assert.deepEqual(await tenantSnapshot(gw.dataSource, a.server.id), before);
    assert.ok(await alive(gw.keys, a.server.kmsKeyRef, a.server.id));
  });

  it('keeps every row when the key manager cannot destroy the key (503, to retry)', async () => {
    const failing = await mediumGateway({
      override: (builder) =>
        builder.overrideProvider(KEY_MANAGER).useFactory({
          factory: (): Partial<KeyManager> => ({
            destroyTenantKey: () => Promise.reject(new Error('KMS is down')),
          }),
        }),
    });
    try {
      const t = await gw.tenant();
      const err = await problem(failing.get(ServersService).delete(t.server));
      assert.equal(err.status, 503);
      assert.ok(await gw.get(ServerRepository).findById(t.server.id));
      assert.ok(await alive(gw.keys, t.server.kmsKeyRef, t.server.id));
    } finally {
      await failing.close();
    }
  });
});
