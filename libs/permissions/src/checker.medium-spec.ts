import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { once } from 'node:events';
import type { Address } from 'viem';
import { PermissionChecker, type PermissionCheckRequest } from './checker';
import { GrantRelayer } from './relayer';
import {
  advanceTime,
  devAccount,
  devPrivateKey,
  randomFileId,
  setupTestChain,
  type TestChain,
  withinClockMargin,
} from './testing/chain';

describe('PermissionChecker', () => {
  let t: TestChain;
  let relayer: GrantRelayer;
  let checker: PermissionChecker;
  const owner = devAccount(7);
  const app = devAccount(8);
  const intruder = devAccount(9);
  const serverId = 'srv_checker';
  const fileA = randomFileId();
  const fileB = randomFileId();

  before(async () => {
    t = await setupTestChain(12);
    relayer = new GrantRelayer({
      rpcUrl: t.rpcUrl,
      chainId: t.chainId,
      dataPermissionsAddress: t.dataPermissions,
      relayerPrivateKey: devPrivateKey(12),
      fromBlock: t.deployBlock,
    });
    checker = new PermissionChecker({
      rpcUrl: t.rpcUrl,
      chainId: t.chainId,
      dataPermissionsAddress: t.dataPermissions,
      timeoutMs: 5000,
      pollingIntervalMs: 100,
    });
  });
  after(async () => {
    checker.close();
    await t.stop();
  });

  async function grant(
    input: Partial<Parameters<GrantRelayer['buildGrantTypedData']>[0]> = {},
    signer = owner,
  ): Promise<string> {
    const td = await relayer.buildGrantTypedData({
      grantor: signer.address,
      grantee: app.address,
      serverId,
      operations: ['summarize'],
      fileIds: [fileA],
      ...input,
    });
    return (await relayer.relayGrant(td, await signer.signTypedData(td))).grantId;
  }

  async function revoke(grantId: string): Promise<bigint> {
    const td = await relayer.buildRevokeTypedData({ grantor: owner.address, grantId });
    const { txHash } = await relayer.relayRevoke(td, await owner.signTypedData(td));
    return (await t.client.getTransactionReceipt({ hash: txHash })).blockNumber;
  }

  const req = (over: Partial<PermissionCheckRequest> = {}): PermissionCheckRequest => ({
    serverId,
    ownerAddress: owner.address,
    policy: { kind: 'grants' },
    grantee: app.address,
    operation: 'summarize',
    fileIds: [fileA],
    ...over,
  });

  it('allows a granted use and names the block it was checked at', async () => {
    const grantId = await grant();
    const head = await t.client.getBlockNumber();
    const decision = await checker.check(req({ grantId }));
    const after = await t.client.getBlockNumber();
    // The chain may be shared with other test files that mine meanwhile: the block lies between the two reads.
    assert.equal(decision.allowed, true);
    assert.ok(
      decision.blockNumber >= head && decision.blockNumber <= after,
      `checked at ${decision.blockNumber}`,
    );
    // lower-case addresses are fine too
    const lower = await checker.check(req({ grantId, grantee: app.address.toLowerCase() as Address }));
    assert.equal(lower.allowed, true);
  });

  it('reports the most specific deny code', async () => {
    const grantId = await grant({ fileIds: [fileA, fileB] });
    const deny = async (over: Partial<PermissionCheckRequest>) => {
      const d = await checker.check(req({ grantId, ...over }));
      assert.equal(d.allowed, false);
      return d.allowed ? undefined : d.code;
    };
    assert.equal(await deny({ grantId: '999999' }), 'grant_not_found');
    assert.equal(await deny({ grantId: undefined }), 'grant_not_found');
    assert.equal(await deny({ grantId: 'abc' }), 'grant_not_found');
    assert.equal(await deny({ grantee: intruder.address }), 'wrong_grantee');
    assert.equal(await deny({ serverId: 'srv_other' }), 'wrong_server');
    assert.equal(await deny({ operation: 'ask' }), 'operation_not_granted');
    assert.equal(await deny({ fileIds: [fileA, randomFileId()] }), 'file_not_granted');
    assert.equal(await deny({ fileIds: ['fil_nothex'] }), 'file_not_granted');
    const both = await checker.check(req({ grantId, fileIds: [fileB, fileA] }));
    assert.equal(both.allowed, true);
    const d = await checker.check(req({ grantId, operation: 'ask' }));
    assert.ok(
      !d.allowed && typeof d.blockNumber === 'bigint',
      'a denial read from the chain names its block',
    );
  });

  it("denies a grant whose grantor is not the server's owner (anyone can put grants on-chain)", async () => {
    const grantId = await grant({}, intruder); // intruder grants the app access to "our" server id
    const d = await checker.check(req({ grantId }));
    assert.deepEqual(d.allowed ? undefined : d.code, 'not_authorized');
    // the same grant is fine for a server the intruder owns
    assert.equal((await checker.check(req({ grantId, ownerAddress: intruder.address }))).allowed, true);
  });

  it('denies after expiry', async () => {
    const grantId = await withinClockMargin(t, 40n, async (now) => {
      const granted = await grant({ expiresAt: new Date(Number(now + 40n) * 1000) });
      assert.equal((await checker.check(req({ grantId: granted }))).allowed, true);
      return granted;
    });
    await advanceTime(t, 60);
    const d = await checker.check(req({ grantId }));
    assert.deepEqual(d.allowed ? undefined : d.code, 'grant_expired');
  });

  it('allFiles grants any file', async () => {
    const grantId = await grant({ fileIds: [], allFiles: true });
    assert.equal(
      (await checker.check(req({ grantId, fileIds: [randomFileId(), randomFileId()] }))).allowed,
      true,
    );
  });

  it('lets checks that arrive together share one head read', async () => {
    const grantId = await grant();
    await checker.check(req({ grantId })); // the chain id is verified once, before the first head read
    const before = checker.stats.headReads;
    const decisions = await Promise.all(Array.from({ length: 8 }, () => checker.check(req({ grantId }))));
    assert.ok(decisions.every((d) => d.allowed));
    assert.equal(checker.stats.headReads, before + 1);
    // one after another, each reads the head itself
    await checker.check(req({ grantId }));
    await checker.check(req({ grantId }));
    assert.equal(checker.stats.headReads, before + 3);
  });

  it('serves a cached allow only within its block and denies from the revoke block on', async () => {
    const grantId = await grant();
    // Other test files share the chain: retry until two checks fall in one block.
    let first = await checker.check(req({ grantId }));
    let hits = checker.stats.cacheHits;
    let again = await checker.check(req({ grantId }));
    for (let i = 0; i < 5 && again.blockNumber !== first.blockNumber; i++) {
      first = again;
      hits = checker.stats.cacheHits;
      again = await checker.check(req({ grantId }));
    }
    assert.equal(first.allowed, true);
    assert.deepEqual(again, first);
    assert.equal(checker.stats.cacheHits, hits + 1, 'same block: served from the cache');
    const revokeBlock = await revoke(grantId);
    const after = await checker.check(req({ grantId }));
    // Other test files share the chain and may mine more blocks meanwhile: the denial is at the revoke's block
    // or later, never a cached allow.
    assert.equal(after.allowed, false);
    assert.equal(after.allowed ? undefined : after.code, 'grant_revoked');
    assert.ok(
      after.blockNumber !== undefined && after.blockNumber >= revokeBlock,
      `checked at ${after.blockNumber}`,
    );
  });

  it('drops cached allows on GrantRevoked even with a long cache TTL', async () => {
    const longCache = new PermissionChecker({
      rpcUrl: t.rpcUrl,
      chainId: t.chainId,
      dataPermissionsAddress: t.dataPermissions,
      timeoutMs: 5000,
      cacheTtlBlocks: 1000,
      pollingIntervalMs: 50,
    });
    try {
      const grantId = await grant();
      assert.equal((await longCache.check(req({ grantId }))).allowed, true);
      await t.testClient.mine({ blocks: 1 });
      const cached = await longCache.check(req({ grantId }));
      assert.equal(cached.allowed, true, 'served from cache across blocks');
      await revoke(grantId);
      // Wait for the watcher to see the event: poll the decision, bounded.
      const deadline = Date.now() + 5000;
      let d = await longCache.check(req({ grantId }));
      while (d.allowed && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        d = await longCache.check(req({ grantId }));
      }
      assert.deepEqual(d.allowed ? undefined : d.code, 'grant_revoked');
    } finally {
      longCache.close();
    }
  });

  it('asks a policy contract authorized(app, file) for every file', async () => {
    const { address: whitelist } = await relayer.deployWhitelist(owner.address);
    const policy = { kind: 'contract', address: whitelist } as const;
    const d0 = await checker.check(req({ policy }));
    assert.deepEqual(d0.allowed ? undefined : d0.code, 'not_authorized');
    const td = await relayer.buildWhitelistChangeTypedData({ whitelist, account: app.address, add: true });
    await relayer.relayWhitelistChange(td, await owner.signTypedData(td));
    assert.equal((await checker.check(req({ policy, fileIds: [fileA, fileB] }))).allowed, true);
    assert.equal((await checker.check(req({ policy, fileIds: [] }))).allowed, true);
    assert.deepEqual(
      await checker.check(req({ policy, grantee: intruder.address })).then((d) => d.allowed),
      false,
    );
    // an address without code is not a policy that authorizes anything
    const none = await checker.check(req({ policy: { kind: 'contract', address: intruder.address } }));
    assert.deepEqual(none.allowed ? undefined : none.code, 'not_authorized');
  });

  it('fails closed and fast when the chain is unreachable or slow', async () => {
    // a closed port
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    server.close();
    await once(server, 'close');
    const down = new PermissionChecker({
      rpcUrl: `http://127.0.0.1:${port}`,
      chainId: t.chainId,
      dataPermissionsAddress: t.dataPermissions,
      timeoutMs: 1000,
    });
    const started = Date.now();
    const d = await down.check(req({ grantId: '1' }));
    assert.deepEqual(d, { allowed: false, code: 'chain_unavailable', blockNumber: undefined });
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
    down.close();

    // A checker without a cache pointed at a local server that misbehaves.
    const checkerAt = (server: { address(): unknown }, timeoutMs: number) =>
      new PermissionChecker({
        rpcUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        chainId: t.chainId,
        dataPermissionsAddress: t.dataPermissions,
        timeoutMs,
        cacheTtlBlocks: 0,
      });

    // a server that accepts and never answers: the timeout decides
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const slow = checkerAt(silent, 300);
    const s0 = Date.now();
    const slowDecision = await slow.check(req({ grantId: '1' }));
    assert.deepEqual(slowDecision.allowed ? undefined : slowDecision.code, 'chain_unavailable');
    assert.ok(Date.now() - s0 < 1000);
    slow.close();
    for (const socket of sockets) socket.destroy();
    silent.close();

    // a gateway in front of the node answering 503 with a text page
    const failing = createHttpServer((_req, res) =>
      res.writeHead(503, { 'content-type': 'text/html' }).end('<h1>busy</h1>'),
    );
    failing.listen(0, '127.0.0.1');
    await once(failing, 'listening');
    const busy = checkerAt(failing, 1000);
    const busyDecision = await busy.check(req({ grantId: '1' }));
    assert.deepEqual(busyDecision.allowed ? undefined : busyDecision.code, 'chain_unavailable');
    busy.close();
    failing.close();

    // the wrong chain id is never trusted
    const wrongChain = new PermissionChecker({
      rpcUrl: t.rpcUrl,
      chainId: 1,
      dataPermissionsAddress: t.dataPermissions,
      timeoutMs: 2000,
      cacheTtlBlocks: 0,
    });
    const w = await wrongChain.check(req({ grantId: '1' }));
    assert.deepEqual(w.allowed ? undefined : w.code, 'chain_unavailable');
    wrongChain.close();
  });
});
