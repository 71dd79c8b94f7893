import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@hearth/errors';
import { recoverTypedDataAddress, getAddress } from 'viem';
import { mediumGateway, type MediumGateway, type Tenant } from '../../../../test/support/medium';
import { DataPortabilityModule } from './data-portability.module';
import { DataPortabilityService } from './data-portability.service';
import { DpError } from './dp-error';
import { ReceiptSigner } from './receipt-signer';

const SECRET = 'the-lighthouse-keeper-wrote-every-night';

describe('DataPortabilityService (real Postgres, key manager)', () => {
  let gw: MediumGateway;
  let dp: DataPortabilityService;
  let a: Tenant;
  let b: Tenant;

  before(async () => {
    gw = await mediumGateway({ imports: [DataPortabilityModule] });
    dp = gw.get(DataPortabilityService);
    [a, b] = await Promise.all([gw.tenant(), gw.tenant()]);
  });
  after(() => gw.close());

  const owner = (t: Tenant) => ({ kind: 'owner' as const, address: t.account.address });

  it('stores a scope document encrypted, its scope and name sealed: no plaintext in Postgres', async () => {
    const body = Buffer.from(JSON.stringify({ journal: SECRET }));
    const stored = await dp.ingest(a.server, 'notes.lighthouse', body, 'application/json');
    const rows: Array<{ text: string }> = await gw.dataSource.query(
      `SELECT concat_ws('|', encode(c.data, 'escape'), encode(f.sealed_name, 'escape'),
                        encode(d.sealed_scope, 'escape'), d.scope_digest) AS text
         FROM dp_documents d JOIN files f ON f.id = d.file_id JOIN file_chunks c ON c.file_id = f.id
        WHERE d.server_id = $1`,
      [a.server.id],
    );
    assert.equal(rows.length, 1);
    assert.doesNotMatch(rows[0].text, /lighthouse|notes/);
    const read = await dp.read(a.server, owner(a), 'notes.lighthouse', {});
    const doc = JSON.parse(read.body.toString('utf8')) as {
      scope: string;
      collectedAt: string;
      data: unknown;
    };
    assert.deepEqual(
      [doc.scope, doc.collectedAt, doc.data],
      ['notes.lighthouse', stored.collectedAt, { journal: SECRET }],
    );
  });

  it("keeps each tenant's scopes and settings to itself", async () => {
    await dp.setReadable(a.server, 'notes.lighthouse', true);
    assert.deepEqual(
      (await dp.scopeSettings(a.server)).map((s) => [s.scope, s.readable, s.versions]),
      [['notes.lighthouse', true, 1]],
    );
    assert.deepEqual(await dp.scopeSettings(b.server), []);
    const err = await dp.read(b.server, owner(b), 'notes.lighthouse', {}).then(
      () => assert.fail('read another tenant'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DpError && err.code === ErrorCode.dp_data_not_found);
    assert.equal((await dp.listScopes(b.server, owner(b), { limit: 20, offset: 0 })).total, 0);
  });

  it("signs receipts in the gateway with the server's identity key", async () => {
    const signed = await gw.get(ReceiptSigner).sign(a.server, {
      operationId: 'log_x',
      grantId: '1',
      blockNumber: '1',
      app: a.account.address,
      operation: 'dp.read',
      operationVersion: '1',
      codeHash: `0x${'0'.repeat(64)}`,
      inputsHash: `0x${'0'.repeat(64)}`,
      parametersHash: `0x${'0'.repeat(64)}`,
      outputHash: `0x${'0'.repeat(64)}`,
      engine: 'data-portability',
      model: '',
      privacyEpsilon: '0',
      quotedChars: '0',
      sandboxLevel: 'none',
      workerCodeHash: `0x${'0'.repeat(64)}`,
      issuedAt: new Date().toISOString(),
    });
    const signer = await recoverTypedDataAddress({
      ...signed.receipt.typedData,
      signature: signed.receipt.signature,
    });
    assert.equal(signer, getAddress(a.server.address));
  });
});
