/**
 * Deploys DataPermissions, then the Data Portability registries (DataRegistry, DataPortabilityGrantees,
 * DataPortabilityServers, DataPortabilityPermissions), with viem. As a script:
 *   node dist/contracts/scripts/deploy.js [--rpc-url http://127.0.0.1:8545] [--private-key 0x…]
 * writes .hearth/deployments/<chainId>.json ({chainId, dataPermissions, deployedAt, blockNumber, dataPortability}).
 * DataPermissions goes first, so its address (the deployer's first) does not move when more contracts follow.
 * The private key defaults to the dev chain's well-known account #0 (dev only).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createPublicClient, createWalletClient, getAddress, http, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  DataPermissionsContract,
  DataPortabilityGranteesContract,
  DataPortabilityPermissionsContract,
  DataPortabilityServersContract,
  DataRegistryContract,
  DEV_RELAYER_PRIVATE_KEY,
  hearthChain,
} from '@hearth/permissions';
import { repoRoot } from './paths';

export interface Deployment {
  chainId: number;
  dataPermissions: Address;
  /** Block of the deployment: the first block worth scanning for GrantAdded logs. */
  blockNumber: bigint;
  /** The Data Portability Protocol's registries (dev-chain versions of the spec's contracts). */
  dataPortability: DataPortabilityDeployment;
}

export interface DataPortabilityDeployment {
  dataRegistry: Address;
  grantees: Address;
  servers: Address;
  permissions: Address;
}

export async function deployContracts(opts: {
  rpcUrl: string;
  deployerPrivateKey: Hex;
}): Promise<Deployment> {
  const probe = createPublicClient({ transport: http(opts.rpcUrl, { retryCount: 0 }) });
  const chainId = await probe.getChainId();
  const chain = hearthChain(chainId, opts.rpcUrl);
  const client = createPublicClient({ chain, transport: http(opts.rpcUrl), pollingInterval: 100 });
  const wallet = createWalletClient({
    account: privateKeyToAccount(opts.deployerPrivateKey),
    chain,
    transport: http(opts.rpcUrl),
  });
  const hash = await wallet.deployContract({
    abi: DataPermissionsContract.abi,
    bytecode: DataPermissionsContract.bytecode,
  });
  const receipt = await client.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success' || !receipt.contractAddress) {
    throw new Error(`DataPermissions deployment failed (tx ${hash})`);
  }
  const deployed = async (name: string, tx: Hex): Promise<Address> => {
    const r = await client.waitForTransactionReceipt({ hash: tx });
    if (r.status !== 'success' || !r.contractAddress) throw new Error(`${name} deployment failed (tx ${tx})`);
    return getAddress(r.contractAddress);
  };
  const dataRegistry = await deployed(
    'DataRegistry',
    await wallet.deployContract({ abi: DataRegistryContract.abi, bytecode: DataRegistryContract.bytecode }),
  );
  const grantees = await deployed(
    'DataPortabilityGrantees',
    await wallet.deployContract({
      abi: DataPortabilityGranteesContract.abi,
      bytecode: DataPortabilityGranteesContract.bytecode,
    }),
  );
  const servers = await deployed(
    'DataPortabilityServers',
    await wallet.deployContract({
      abi: DataPortabilityServersContract.abi,
      bytecode: DataPortabilityServersContract.bytecode,
    }),
  );
  const permissions = await deployed(
    'DataPortabilityPermissions',
    await wallet.deployContract({
      abi: DataPortabilityPermissionsContract.abi,
      bytecode: DataPortabilityPermissionsContract.bytecode,
      args: [dataRegistry, servers, grantees],
    }),
  );
  const link = await wallet.writeContract({
    address: grantees,
    abi: DataPortabilityGranteesContract.abi,
    functionName: 'setPermissionsContract',
    args: [permissions],
  });
  const linked = await client.waitForTransactionReceipt({ hash: link });
  if (linked.status !== 'success') throw new Error(`DataPortabilityGrantees link failed (tx ${link})`);
  return {
    chainId,
    dataPermissions: getAddress(receipt.contractAddress),
    blockNumber: receipt.blockNumber,
    dataPortability: { dataRegistry, grantees, servers, permissions },
  };
}

/** The settings that point the apps at the Data Portability registries of a deployment. */
export function dataPortabilityEnv(d: Deployment): Record<string, string> {
  return {
    DP_DATA_REGISTRY_ADDRESS: d.dataPortability.dataRegistry,
    DP_GRANTEES_ADDRESS: d.dataPortability.grantees,
    DP_SERVERS_ADDRESS: d.dataPortability.servers,
    DP_PERMISSIONS_ADDRESS: d.dataPortability.permissions,
  };
}

/** Writes .hearth/deployments/<chainId>.json, which the config loader reads DATA_PERMISSIONS_ADDRESS from. */
export function writeDeployment(d: Deployment, root: string = repoRoot()): string {
  const dir = path.join(root, '.hearth', 'deployments');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${d.chainId}.json`);
  const body = {
    chainId: d.chainId,
    dataPermissions: d.dataPermissions,
    deployedAt: new Date().toISOString(),
    blockNumber: d.blockNumber.toString(10),
    dataPortability: d.dataPortability,
  };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'rpc-url': { type: 'string' }, 'private-key': { type: 'string' } },
  });
  const rpcUrl = values['rpc-url'] ?? 'http://127.0.0.1:8545';
  const key = (values['private-key'] ?? DEV_RELAYER_PRIVATE_KEY) as Hex;
  const deployment = await deployContracts({ rpcUrl, deployerPrivateKey: key });
  const file = writeDeployment(deployment);
  console.log(
    `DataPermissions deployed at ${deployment.dataPermissions} on chain ${deployment.chainId}; wrote ${file}`,
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
