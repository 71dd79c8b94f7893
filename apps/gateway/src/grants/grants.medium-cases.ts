import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ServerRepository } from '@hearth/db';
import { newId } from '@hearth/ids';
import type { PrivateKeyAccount } from 'viem/accounts';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  mediumGateway,
  type MediumGateway,
  seedFile,
  type Tenant,
  problem,
} from '../../../../test/support/medium';
import { Chain } from '../chain/chain.module';
import { GrantsModule } from './grants.module';
import { GrantsService } from './grants.service';

/** Signs the typed data exactly as the API returned it (decimal strings for uints), as a wallet would. */
function sign(wallet: PrivateKeyAccount, typedData: unknown): Promise<`0x${string}`> {
  return wallet.signTypedData(typedData as Parameters<PrivateKeyAccount['signTypedData']>[0]);
}

describe('GrantsService (real Postgres, real dev chain)', () => {
  let gw: MediumGateway;
  let grants: GrantsService;
  let a: Tenant;
  let b: Tenant;
  const app = privateKeyToAccount(generatePrivateKey());

  before(async () => {
    gw = await mediumGateway({ imports: [GrantsModule] });
    grants = gw.get(GrantsService);
    [a, b] = await Promise.all([gw.tenant(), gw.tenant()]);
  });
  after(() => gw.close());

  it("prepares typed data for the owner's own files, relays the signed grant and lists it", async () => {
    const file = await seedFile(gw.dataSource, a.server.id);
    const { typedData } = await grants.grantTypedData(a.server, {
      appAddress: app.address,
      operations: ['summarize'],
      fileIds: [file.id],
    });
    const message = typedData.message as { grantor: string; serverId: string; operations: string[] };
    assert.deepEqual(
      [message.grantor, message.serverId, message.operations],
      [a.wallet.address, a.server.id, ['summarize']],
    );
    const relayed = await grants.relayGrant(a.server, {
      typedData,
      signature: await sign(a.wallet, typedData),
    });
    assert.match(relayed.txHash, /^0x[0-9a-f]{64}$/);
    const listed = await grants.list(a.server, { limit: 10 });
    assert.deepEqual(
      listed.items.map((g) => [g.grantId, g.fileIds, g.status]),
      [[relayed.grantId, [file.id], 'active']],
    );
    assert.equal((await grants.get(a.server, relayed.grantId)).grantId, relayed.grantId);
  });

  it('names unknown operations and files that are not ready files of the server', async () => {
    const uploading = await seedFile(gw.dataSource, a.server.id, { status: 'uploading' });
    const unknownOp = await problem(
      grants.grantTypedData(a.server, {
        appAddress: app.address,
        operations: ['summarize', 'nope'],
        allFiles: true,
      }),
    );
    assert.deepEqual([unknownOp.status, unknownOp.errors?.map((e) => e.field)], [400, ['operations.1']]);
    const missing = await problem(
      grants.grantTypedData(a.server, {
        appAddress: app.address,
        operations: ['summarize'],
        fileIds: [uploading.id, newId('fil')],
      }),
    );
    assert.deepEqual(
      [missing.status, missing.errors?.map((e) => e.field)],
      [404, ['fileIds.0', 'fileIds.1']],
    );
  });

  it("cross-tenant: B cannot grant A's files, relay A's grant, or see or revoke A's grants", async () => {
    const fileA = await seedFile(gw.dataSource, a.server.id);
    const fileB = await seedFile(gw.dataSource, b.server.id);
    const foreign = await problem(
      grants.grantTypedData(b.server, {
        appAddress: app.address,
        operations: ['summarize'],
        fileIds: [fileB.id, fileA.id],
      }),
    );
    assert.deepEqual([foreign.status, foreign.errors?.map((e) => e.field)], [404, ['fileIds.1']]);
    // A's owner signs a grant of A's file; sent to B's server it is refused before any transaction.
    const { typedData } = await grants.grantTypedData(a.server, {
      appAddress: app.address,
      operations: ['summarize'],
      fileIds: [fileA.id],
    });
    const signature = await sign(a.wallet, typedData);
    const refused = await problem(grants.relayGrant(b.server, { typedData, signature }));
    assert.equal(refused.status, 403);
    const { grantId } = await grants.relayGrant(a.server, { typedData, signature });
    assert.equal((await problem(grants.get(b.server, grantId))).status, 404);
    assert.equal((await problem(grants.revokeTypedData(b.server, grantId))).status, 404);
    assert.equal((await grants.list(b.server, { limit: 50 })).items.length, 0);
    assert.ok((await grants.list(a.server, { limit: 50 })).items.some((g) => g.grantId === grantId));
  });

  it('revokes by the owner signature; a revoked grant cannot be revoked again', async () => {
    const { typedData } = await grants.grantTypedData(a.server, {
      appAddress: app.address,
      operations: ['stats'],
      allFiles: true,
    });
    const { grantId } = await grants.relayGrant(a.server, {
      typedData,
      signature: await sign(a.wallet, typedData),
    });
    const revoke = await grants.revokeTypedData(a.server, grantId);
    await grants.relayRevoke(a.server, grantId, {
      typedData: revoke.typedData,
      signature: await sign(a.wallet, revoke.typedData),
    });
    assert.equal((await grants.get(a.server, grantId)).status, 'revoked');
    assert.equal((await problem(grants.revokeTypedData(a.server, grantId))).status, 409);
  });

  it("sets a contract policy after checking the contract; B's change leaves A alone", async () => {
    const servers = gw.get(ServerRepository);
    const notAContract = await problem(
      grants.setPolicy(a.server, { kind: 'contract', address: app.address }),
    );
    assert.equal(notAContract.status, 400);
    assert.equal((await servers.findById(a.server.id))?.policyKind, 'grants');
    // A Whitelist answers owner() and authorized(…): an IVanaDataPermission contract.
    const { address } = await gw.get(Chain).relayer.deployWhitelist(b.wallet.address);
    const policy = await grants.setPolicy(b.server, { kind: 'contract', address });
    assert.deepEqual(policy, { kind: 'contract', address });
    const bAfter = await servers.findById(b.server.id);
    assert.deepEqual([bAfter?.policyKind, bAfter?.policyAddress], ['contract', address.toLowerCase()]);
    const aAfter = await servers.findById(a.server.id);
    assert.deepEqual([aAfter?.policyKind, aAfter?.policyAddress], ['grants', null]);
  });
});
