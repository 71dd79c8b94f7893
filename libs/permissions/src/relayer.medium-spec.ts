import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { verifyTypedData } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { PermissionsError } from './errors';
import { GrantRelayer, type SendLock } from './relayer';
import { toJsonSafe } from './typed-data';
import { isVanaDataPermissionContract } from './vana';
import {
  devAccount,
  devPrivateKey,
  latestTimestamp,
  randomFileId,
  setupTestChain,
  type TestChain,
} from './testing/chain';

async function rejectsWith(p: Promise<unknown>, code: string, field?: string): Promise<PermissionsError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof PermissionsError, `expected PermissionsError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (field)
      assert.ok(
        err.fieldErrors.some((f) => f.field === field),
        JSON.stringify(err.fieldErrors),
      );
    return err;
  }
  assert.fail(`expected ${code}`);
}

describe('GrantRelayer', () => {
  let t: TestChain;
  let relayer: GrantRelayer;
  const owner = devAccount(16);
  const app = devAccount(17);
  const other = devAccount(18);
  const serverId = 'srv_relayer';
  const file = randomFileId();

  before(async () => {
    t = await setupTestChain(11);
    relayer = new GrantRelayer({
      rpcUrl: t.rpcUrl,
      chainId: t.chainId,
      dataPermissionsAddress: t.dataPermissions,
      relayerPrivateKey: devPrivateKey(11),
      fromBlock: t.deployBlock,
    });
  });
  after(async () => {
    await t.stop();
  });

  const build = (over: Partial<Parameters<GrantRelayer['buildGrantTypedData']>[0]> = {}) =>
    relayer.buildGrantTypedData({
      grantor: owner.address,
      grantee: app.address,
      serverId,
      operations: ['summarize', 'ask'],
      fileIds: [file],
      ...over,
    });

  it('builds typed data with the current nonce; a JSON round trip signs, verifies and relays', async () => {
    const td = await build({ expiresAt: new Date(Date.now() + 86_400_000) });
    assert.equal(td.primaryType, 'Grant');
    assert.deepEqual(td.domain, {
      name: 'Hearth DataPermissions',
      version: '1',
      chainId: t.chainId,
      verifyingContract: t.dataPermissions,
    });
    assert.equal(td.message.nonce, 0n);
    assert.ok(td.message.deadline > (await latestTimestamp(t)));

    // What the HTTP API sends: JSON with decimal strings; what comes back is the same JSON.
    const wire = JSON.parse(JSON.stringify(toJsonSafe(td))) as unknown;
    assert.equal((wire as { message: { nonce: unknown } }).message.nonce, '0');
    // why cast: a client signs the JSON as it got it (viem turns decimal strings into integers at runtime)
    const signature = await owner.signTypedData(wire as Parameters<typeof owner.signTypedData>[0]);
    assert.equal(signature, await owner.signTypedData(td), 'JSON and native typed data sign identically');
    const valid = await relayer.validateGrantTypedData(wire);
    assert.ok(valid.ok);
    assert.ok(await verifyTypedData({ ...valid.typedData, address: owner.address, signature }));

    const { grantId, txHash } = await relayer.relayGrant(wire, signature);
    assert.match(grantId, /^[1-9][0-9]*$/);
    assert.match(txHash, /^0x[0-9a-f]{64}$/);
    const listed = await relayer.listGrants({ grantor: owner.address, serverId });
    const record = listed.find((g) => g.grantId === grantId);
    assert.ok(record);
    assert.equal(record.status, 'active');
    assert.equal(record.grantee, app.address);
    assert.deepEqual(record.fileIds, [file]);
    assert.deepEqual(record.operations, ['summarize', 'ask']);
    assert.equal(record.txHash, txHash);
    assert.ok(record.expiresAt instanceof Date);
    assert.equal((await relayer.getGrant(grantId))?.grantId, grantId);
    assert.equal(await relayer.getGrant('999999'), null);

    // replaying the same signed typed data is refused before any transaction
    await rejectsWith(relayer.relayGrant(wire, signature), 'validation_failed', 'message.nonce');
  });

  it('reports malformed fields, the wrong chain or contract, passed deadlines and stale nonces', async () => {
    const td = toJsonSafe(await build());
    const bad = {
      ...td,
      domain: { ...td.domain, chainId: 1, verifyingContract: other.address },
      message: { ...td.message, grantee: 'nope', fileIds: ['-1'], nonce: '7', operations: [] },
    };
    const res = await relayer.validateGrantTypedData(bad);
    assert.ok(!res.ok);
    const codes = Object.fromEntries(res.errors.map((e) => [e.field, e.code]));
    assert.equal(codes['domain.chainId'], 'wrong_chain');
    assert.equal(codes['domain.verifyingContract'], 'wrong_contract');
    assert.equal(codes['message.grantee'], 'invalid_address');
    assert.equal(codes['message.fileIds.0'], 'invalid_integer');
    assert.equal(codes['message.operations'], 'invalid_value');

    const chainSide = await relayer.validateGrantTypedData({
      ...td,
      message: { ...td.message, nonce: '7', deadline: '1' },
    });
    assert.ok(!chainSide.ok);
    assert.deepEqual(
      chainSide.errors.map((e) => [e.field, e.code]),
      [
        ['message.nonce', 'stale_nonce'],
        ['message.deadline', 'expired'],
      ],
    );
    const notObject = await relayer.validateGrantTypedData('x');
    assert.ok(!notObject.ok);
    const wrongTypes = await relayer.validateGrantTypedData({ ...td, types: { Grant: [] } });
    assert.ok(!wrongTypes.ok && wrongTypes.errors[0]?.code === 'wrong_types');
    await assert.rejects(
      build({ fileIds: ['fil_bad'] }),
      (err: unknown) => err instanceof PermissionsError && err.code === 'validation_failed',
    );
  });

  it('checks the signature off-chain first and sends nothing when it is not the grantor', async () => {
    const td = await build();
    const txCount = await t.client.getTransactionCount({ address: relayer.relayerAddress });
    await rejectsWith(relayer.relayGrant(td, await other.signTypedData(td)), 'signature_mismatch');
    await rejectsWith(relayer.relayGrant(td, '0x1234'), 'invalid_signature');
    await rejectsWith(relayer.relayGrant(td, `0x${'00'.repeat(65)}`), 'invalid_signature');
    assert.equal(
      await t.client.getTransactionCount({ address: relayer.relayerAddress }),
      txCount,
      'no transaction sent',
    );
  });

  it('revokes by signature and lists the grant as revoked', async () => {
    const td = await build();
    const { grantId } = await relayer.relayGrant(td, await owner.signTypedData(td));
    const rtd = await relayer.buildRevokeTypedData({ grantor: owner.address, grantId });
    await rejectsWith(relayer.relayRevoke(rtd, await other.signTypedData(rtd)), 'signature_mismatch');
    const wire = JSON.parse(JSON.stringify(toJsonSafe(rtd))) as unknown;
    const sig = await owner.signTypedData(rtd);
    const res = await relayer.relayRevoke(wire, sig);
    assert.equal(res.grantId, grantId);
    const record = await relayer.getGrant(grantId);
    assert.equal(record?.status, 'revoked');
    assert.equal(
      (await relayer.listGrants({ grantor: owner.address })).find((g) => g.grantId === grantId)?.revoked,
      true,
    );
    // revoking again: fresh signature, contract says already revoked
    const again = await relayer.buildRevokeTypedData({ grantor: owner.address, grantId });
    await rejectsWith(relayer.relayRevoke(again, await owner.signTypedData(again)), 'conflict');
    // someone else's signed revocation of our grant
    const foreign = await relayer.buildRevokeTypedData({ grantor: other.address, grantId });
    await rejectsWith(relayer.relayRevoke(foreign, await other.signTypedData(foreign)), 'forbidden');
  });

  it("lists only the grantor's grants for the server", async () => {
    const td = await build({ serverId: 'srv_elsewhere', allFiles: true, fileIds: [] });
    await relayer.relayGrant(td, await owner.signTypedData(td));
    const otherTd = await relayer.buildGrantTypedData({
      grantor: other.address,
      grantee: app.address,
      serverId,
      operations: ['x'],
      allFiles: true,
    });
    await relayer.relayGrant(otherTd, await other.signTypedData(otherTd));
    const mine = await relayer.listGrants({ grantor: owner.address, serverId });
    assert.ok(mine.length >= 1);
    assert.ok(mine.every((g) => g.serverId === serverId && g.grantor === owner.address));
    const elsewhere = await relayer.listGrants({ grantor: owner.address, serverId: 'srv_elsewhere' });
    assert.equal(elsewhere.length, 1);
    assert.equal(elsewhere[0]?.allFiles, true);
  });

  it('lists the same grants when the log scan goes one block per query', async () => {
    // Public RPC endpoints cap eth_getLogs ranges: the scan walks the chain in windows.
    const narrow = new GrantRelayer({
      rpcUrl: t.rpcUrl,
      chainId: t.chainId,
      dataPermissionsAddress: t.dataPermissions,
      relayerPrivateKey: devPrivateKey(11),
      fromBlock: t.deployBlock,
      logWindowBlocks: 1n,
    });
    const wide = await relayer.listGrants({ grantor: owner.address });
    assert.ok(wide.length >= 2, 'grants in several blocks');
    assert.deepEqual(
      (await narrow.listGrants({ grantor: owner.address })).map((g) => g.grantId),
      wide.map((g) => g.grantId),
    );
  });

  it('two relayers sharing one key and one send lock (two gateway replicas) never collide on a nonce', async () => {
    // A process-wide mutex stands in for the gateway's Redis lock (tested against Redis beside it).
    let tail: Promise<unknown> = Promise.resolve();
    const lock: SendLock = {
      run: <T>(_key: string, fn: () => Promise<T>): Promise<T> => {
        const run = tail.then(fn);
        tail = run.catch(() => undefined);
        return run;
      },
    };
    const replica = () =>
      new GrantRelayer({
        rpcUrl: t.rpcUrl,
        chainId: t.chainId,
        dataPermissionsAddress: t.dataPermissions,
        relayerPrivateKey: devPrivateKey(13),
        fromBlock: t.deployBlock,
        sendLock: lock,
      });
    const replicas = [replica(), replica()];
    // Grantors only sign (the relayer pays), so fresh keys do; one grant each, all relayed at once.
    const signed = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const grantor = privateKeyToAccount(generatePrivateKey());
        const td = await replicas[0].buildGrantTypedData({
          grantor: grantor.address,
          grantee: app.address,
          serverId,
          operations: ['summarize'],
          allFiles: true,
        });
        return { td, signature: await grantor.signTypedData(td) };
      }),
    );
    const relayed = await Promise.all(
      signed.map(({ td, signature }, i) => replicas[i % 2].relayGrant(td, signature)),
    );
    assert.equal(new Set(relayed.map((r) => r.grantId)).size, 6);
  });

  it('reports health', async () => {
    const h = await relayer.health();
    assert.equal(h.relayerAddress, devAccount(11).address);
    assert.ok(h.blockNumber > 0n);
    assert.ok(h.relayerBalanceWei > 0n);
  });

  it("deploys and drives a Whitelist by the owner's signature; recognises IVanaDataPermission contracts", async () => {
    const { address } = await relayer.deployWhitelist(owner.address);
    assert.equal(await isVanaDataPermissionContract(t.client, address), true);
    assert.equal(await isVanaDataPermissionContract(t.client, t.dataPermissions), false);
    assert.equal(await isVanaDataPermissionContract(t.client, other.address), false);

    const td = await relayer.buildWhitelistChangeTypedData({
      whitelist: address,
      account: app.address,
      add: true,
    });
    assert.equal(td.message.owner, owner.address);
    await rejectsWith(relayer.relayWhitelistChange(td, await other.signTypedData(td)), 'signature_mismatch');
    await relayer.relayWhitelistChange(toJsonSafe(td), await owner.signTypedData(td));
    const authorized = () =>
      t.client.readContract({
        address,
        abi: [
          {
            type: 'function',
            name: 'authorized',
            stateMutability: 'view',
            inputs: [{ name: 'r', type: 'address' }],
            outputs: [{ name: '', type: 'bool' }],
          },
        ] as const,
        functionName: 'authorized',
        args: [app.address],
      });
    assert.equal(await authorized(), true);
    await rejectsWith(
      relayer.relayWhitelistChange(td, await owner.signTypedData(td)),
      'validation_failed',
      'message.nonce',
    );
    const removal = await relayer.buildWhitelistChangeTypedData({
      whitelist: address,
      account: app.address,
      add: false,
    });
    await relayer.relayWhitelistChange(removal, await owner.signTypedData(removal));
    assert.equal(await authorized(), false);
  });

  it('maps an unreachable chain to chain_unavailable', async () => {
    const down = new GrantRelayer({
      rpcUrl: 'http://127.0.0.1:1',
      chainId: t.chainId,
      dataPermissionsAddress: t.dataPermissions,
      relayerPrivateKey: devPrivateKey(11),
      timeoutMs: 1000,
    });
    await rejectsWith(down.health(), 'chain_unavailable');
    await rejectsWith(
      down.buildGrantTypedData({
        grantor: owner.address,
        grantee: app.address,
        serverId,
        operations: ['x'],
        allFiles: true,
      }),
      'chain_unavailable',
    );
  });
});
