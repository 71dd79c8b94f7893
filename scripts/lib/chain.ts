import type { HearthConfig } from '@hearth/config';
import { DEV_RELAYER_PRIVATE_KEY } from '@hearth/permissions';
import { dataPortabilityEnv, deployContracts } from '../../contracts/scripts/deploy';
import { DEFAULT_DEV_CHAIN_PORT, DEV_CHAIN_ID, startDevChain } from '../../contracts/scripts/dev-chain';

/** Dev-chain plumbing for the test, start and demo scripts. */
export interface ChainHandle {
  env: Record<string, string>;
  stop(): Promise<void>;
}

async function answersRpc(rpcUrl: string): Promise<boolean> {
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

async function deployTo(rpcUrl: string, key: `0x${string}`): Promise<Record<string, string>> {
  const deployment = await deployContracts({ rpcUrl, deployerPrivateKey: key });
  return {
    CHAIN_RPC_URL: rpcUrl,
    CHAIN_ID: String(deployment.chainId),
    DATA_PERMISSIONS_ADDRESS: deployment.dataPermissions,
    ...dataPortabilityEnv(deployment),
  };
}

/**
 * Tests: a fresh dev chain on a free port with fresh contracts, unless CHAIN_RPC_URL names a chain to use
 * (then contracts are deployed there unless DATA_PERMISSIONS_ADDRESS is given too).
 */
export async function startChainForTests(_home: string): Promise<ChainHandle> {
  const given = process.env.CHAIN_RPC_URL;
  if (given) {
    if (process.env.DATA_PERMISSIONS_ADDRESS) return { env: {}, stop: async () => undefined };
    const key = (process.env.RELAYER_PRIVATE_KEY ?? DEV_RELAYER_PRIVATE_KEY) as `0x${string}`;
    return { env: await deployTo(given, key), stop: async () => undefined };
  }
  const chain = await startDevChain();
  try {
    return { env: await deployTo(chain.rpcUrl, DEV_RELAYER_PRIVATE_KEY), stop: () => chain.stop() };
  } catch (err) {
    await chain.stop();
    throw err;
  }
}

/**
 * `npm start` and the demo: with CHAIN_RPC_URL set, use that chain and its configured contracts; otherwise
 * start the dev chain on 127.0.0.1:8545 (or reuse one already answering there, e.g. `npm run chain`) and
 * deploy the contracts.
 */
export async function startChainForDev(
  env: NodeJS.ProcessEnv,
  config: HearthConfig,
  log: (line: string) => void,
): Promise<ChainHandle> {
  if (env.CHAIN_RPC_URL) {
    log(`using the chain at ${config.CHAIN_RPC_URL} (chain id ${config.CHAIN_ID})`);
    return { env: {}, stop: async () => undefined };
  }
  const rpcUrl = `http://127.0.0.1:${DEFAULT_DEV_CHAIN_PORT}`;
  if (await answersRpc(rpcUrl)) {
    log(`reusing the dev chain already answering at ${rpcUrl}; deploying fresh contracts`);
    return { env: await deployTo(rpcUrl, DEV_RELAYER_PRIVATE_KEY), stop: async () => undefined };
  }
  log(`starting the dev chain (Hardhat node, chain id ${DEV_CHAIN_ID}) at ${rpcUrl}`);
  const chain = await startDevChain({ port: DEFAULT_DEV_CHAIN_PORT });
  try {
    const deployed = await deployTo(chain.rpcUrl, DEV_RELAYER_PRIVATE_KEY);
    log(`DataPermissions deployed at ${deployed.DATA_PERMISSIONS_ADDRESS}`);
    return { env: deployed, stop: () => chain.stop() };
  } catch (err) {
    await chain.stop();
    throw err;
  }
}
