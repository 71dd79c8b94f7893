/**
 * Permission-check figures against a real dev chain (not a test):
 *   node dist/bench/permissions.bench.js
 * - checks/s uncached (cacheTtlBlocks 0) vs cached (default: one block), sequential and 16 in flight
 * - blocks from a revoke until the checker denies (expected 0: the first check in the revoke's block)
 * Uses CHAIN_RPC_URL's chain when set (shared with other users: figures get noisier), else its own.
 */
import { PermissionChecker, GrantRelayer, type PermissionCheckRequest } from '@hearth/permissions';
import {
  devAccount,
  devPrivateKey,
  randomFileId,
  setupTestChain,
} from '../libs/permissions/src/testing/chain';

async function rate(checker: PermissionChecker, req: PermissionCheckRequest, n: number, inFlight: number) {
  const started = process.hrtime.bigint();
  let next = 0;
  let allowed = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) {
        next++;
        if ((await checker.check(req)).allowed) allowed++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (allowed !== n) throw new Error(`expected ${n} allowed decisions, got ${allowed}`);
  return n / seconds;
}

async function main(): Promise<void> {
  const t = await setupTestChain(13);
  const owner = devAccount(14);
  const app = devAccount(15);
  const files = [randomFileId(), randomFileId(), randomFileId()];
  const common = {
    rpcUrl: t.rpcUrl,
    chainId: t.chainId,
    dataPermissionsAddress: t.dataPermissions,
    timeoutMs: 5000,
  };
  const relayer = new GrantRelayer({
    ...common,
    relayerPrivateKey: devPrivateKey(13),
    fromBlock: t.deployBlock,
  });
  const uncached = new PermissionChecker({ ...common, cacheTtlBlocks: 0 });
  const cached = new PermissionChecker({ ...common, pollingIntervalMs: 200 });
  try {
    const grant = async () => {
      const td = await relayer.buildGrantTypedData({
        grantor: owner.address,
        grantee: app.address,
        serverId: 'srv_bench',
        operations: ['summarize'],
        fileIds: files,
      });
      return (await relayer.relayGrant(td, await owner.signTypedData(td))).grantId;
    };
    const grantId = await grant();
    const req: PermissionCheckRequest = {
      serverId: 'srv_bench',
      ownerAddress: owner.address,
      policy: { kind: 'grants' },
      grantId,
      grantee: app.address,
      operation: 'summarize',
      fileIds: files,
    };
    await rate(uncached, req, 20, 1); // warm-up
    await rate(cached, req, 20, 1);
    // Rounds of n checks each; uncached and cached alternate which goes first, figures are medians of the rounds.
    const n = 200;
    const rounds = 4;
    const median = (v: number[]) => {
      const x = [...v].sort((p, q) => p - q);
      return x.length % 2 ? x[(x.length - 1) / 2] : (x[x.length / 2 - 1] + x[x.length / 2]) / 2;
    };
    for (const inFlight of [1, 16]) {
      const us: number[] = [];
      const cs: number[] = [];
      const ratios: number[] = [];
      for (let round = 0; round < rounds; round++) {
        let u: number;
        let c: number;
        if (round % 2 === 0) {
          u = await rate(uncached, req, n, inFlight);
          c = await rate(cached, req, n, inFlight);
        } else {
          c = await rate(cached, req, n, inFlight);
          u = await rate(uncached, req, n, inFlight);
        }
        us.push(u);
        cs.push(c);
        ratios.push(c / u);
      }
      console.log(
        `checks/s (${files.length} files, ${inFlight} in flight, medians of ${rounds} alternating rounds): ` +
          `uncached ${median(us).toFixed(0)}, cached ${median(cs).toFixed(0)}, ratio ${median(ratios).toFixed(2)}x`,
      );
    }
    console.log(
      `cached checker: ${cached.stats.cacheHits} cache hits, ${cached.stats.chainReads} chain reads`,
    );

    const lags: bigint[] = [];
    for (let i = 0; i < 5; i++) {
      const id = await grant();
      const r = { ...req, grantId: id };
      if (!(await cached.check(r)).allowed) throw new Error('grant not allowed before revoke');
      if (!(await cached.check(r)).allowed) throw new Error('grant not allowed before revoke');
      const rtd = await relayer.buildRevokeTypedData({ grantor: owner.address, grantId: id });
      const { txHash } = await relayer.relayRevoke(rtd, await owner.signTypedData(rtd));
      const revokeBlock = (await t.client.getTransactionReceipt({ hash: txHash })).blockNumber;
      const d = await cached.check(r);
      if (d.allowed || d.blockNumber === undefined)
        throw new Error(
          `still allowed after revoke: ${JSON.stringify(d, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`,
        );
      lags.push(d.blockNumber - revokeBlock);
    }
    console.log(`blocks from revoke to first deny (cached checker, 5 trials): ${lags.join(', ')}`);
  } finally {
    uncached.close();
    cached.close();
    await t.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
