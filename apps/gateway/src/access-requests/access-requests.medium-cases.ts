import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKeyRepository } from '@hearth/db';
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';
import {
  mediumGateway,
  type MediumGateway,
  problem,
  seedFile,
  type Tenant,
  tenantSnapshot,
} from '../../../../test/support/medium';
import { sha256 } from '../auth/tokens';
import { AccessRequestsModule } from './access-requests.module';
import { AccessRequestsService } from './access-requests.service';

function sign(wallet: PrivateKeyAccount, typedData: unknown): Promise<`0x${string}`> {
  return wallet.signTypedData(typedData as Parameters<PrivateKeyAccount['signTypedData']>[0]);
}

const IP = '203.0.113.7';

describe('AccessRequestsService (real Postgres, Redis, dev chain)', () => {
  let gw: MediumGateway;
  let service: AccessRequestsService;
  let keys: ApiKeyRepository;
  let a: Tenant;
  let b: Tenant;
  let fileA: string;
  const app = privateKeyToAccount(generatePrivateKey());

  before(async () => {
    gw = await mediumGateway({ imports: [AccessRequestsModule] });
    service = gw.get(AccessRequestsService);
    keys = gw.get(ApiKeyRepository);
    [a, b] = await Promise.all([gw.tenant(), gw.tenant()]);
    fileA = (await seedFile(gw.dataSource, a.server.id)).id;
  });
  after(() => gw.close());

  async function fileRequest(extra: Record<string, unknown> = {}): Promise<string> {
    const { typedData } = await service.typedData(
      {
        server: a.server.id,
        appAddress: app.address,
        operations: ['stats'],
        fileIds: [fileA],
        purpose: 'counting',
        ...extra,
      },
      IP,
    );
    return (await service.submit({ typedData: { ...typedData }, signature: await sign(app, typedData) }, IP))
      .requestId;
  }

  it("files a request for the owner's server and shows it to that owner only", async () => {
    const requestId = await fileRequest();
    assert.equal((await service.get(a.server, requestId)).status, 'pending');
    assert.equal((await problem(service.get(b.server, requestId))).status, 404);
    assert.equal((await service.list(b.server, { limit: 50 })).items.length, 0);
    assert.ok((await service.list(a.server, { limit: 50 })).items.some((r) => r.requestId === requestId));
  });

  it("cross-tenant: another owner cannot approve, grant or deny it, and A's rows stay as they were", async () => {
    const requestId = await fileRequest();
    const before = await tenantSnapshot(gw.dataSource, a.server.id);
    assert.equal((await problem(service.approveTypedData(b.server, requestId, {}))).status, 404);
    assert.equal((await problem(service.deny(b.server, requestId))).status, 404);
    assert.equal(
      (
        await problem(
          service.grant(b.server, requestId, { typedData: {}, signature: `0x${'1'.repeat(130)}` }),
        )
      ).status,
      404,
    );
    assert.deepEqual(await tenantSnapshot(gw.dataSource, a.server.id), before);
  });

  it('refuses a file of another server, naming it, and stores nothing', async () => {
    const fileB = (await seedFile(gw.dataSource, b.server.id)).id;
    const before = await tenantSnapshot(gw.dataSource, a.server.id);
    const refused = await problem(
      service.typedData(
        {
          server: a.server.id,
          appAddress: app.address,
          operations: ['stats'],
          fileIds: [fileB],
          purpose: 'p',
        },
        IP,
      ),
    );
    assert.deepEqual([refused.status, refused.errors?.[0]?.field], [404, 'fileIds.0']);
    assert.deepEqual(await tenantSnapshot(gw.dataSource, a.server.id), before);
  });

  it('approves through the grants flow, then delivers a key that authenticates as this server, once', async () => {
    const requestId = await fileRequest({ appName: 'Counter' });
    const { typedData } = await service.approveTypedData(a.server, requestId, {});
    const granted = await service.grant(a.server, requestId, {
      typedData: typedData,
      signature: await sign(a.wallet, typedData),
    });
    const claimTd = (await service.claimTypedData(requestId, IP)).typedData;
    const claimed = await service.claim(
      requestId,
      { typedData: { ...claimTd }, signature: await sign(app, claimTd) },
      IP,
    );
    assert.equal(claimed.keyId, granted.keyId);
    const match = await keys.findBySecretHash(sha256(claimed.key));
    assert.deepEqual(
      [match?.server.id, match?.key.name, match?.key.operations],
      [a.server.id, 'Counter', ['stats']],
    );
    const again = await problem(
      service.claim(requestId, { typedData: { ...claimTd }, signature: await sign(app, claimTd) }, IP),
    );
    assert.equal(again.code, 'already_claimed');
  });
});
