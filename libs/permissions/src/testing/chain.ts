/**
 * Test helpers (not part of the public surface): a dev chain per test file unless CHAIN_RPC_URL points
 * at a shared one, fresh contracts, and funded dev accounts distinct per test file.
 */
import { createTestClient, http, type Address, type Hex, type PrivateKeyAccount } from 'viem';
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import { deployContracts } from '../../../../contracts/scripts/deploy';
import { DEV_CHAIN_ID, startDevChain } from '../../../../contracts/scripts/dev-chain';
import { createHearthPublicClient } from '../client';

/** Hardhat's public dev mnemonic: accounts #0..#19 are funded on the dev chain. */
const DEV_MNEMONIC = 'test test test test test test test test test test test junk';

export function devPrivateKey(index: number): Hex {
  const key = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index }).getHdKey().privateKey;
  if (!key) throw new Error('no private key');
  return `0x${Buffer.from(key).toString('hex')}`;
}

export function devAccount(index: number): PrivateKeyAccount {
  return privateKeyToAccount(devPrivateKey(index));
}

export interface TestChain {
  rpcUrl: string;
  chainId: number;
  dataPermissions: Address;
  deployBlock: bigint;
  /** viem client with `cacheTime: 0`. */
  client: ReturnType<typeof createHearthPublicClient>;
  /** Hardhat test actions (evm_increaseTime, evm_mine). */
  testClient: ReturnType<typeof createTestClient>;
  stop(): Promise<void>;
}

/**
 * Starts (or reuses via CHAIN_RPC_URL) a dev chain and deploys DataPermissions from dev account
 * `deployerIndex`, so parallel test files sharing a chain never race on one account's nonce.
 */
export async function setupTestChain(deployerIndex: number): Promise<TestChain> {
  // why process.env here: test harness input (a chain shared by `npm test`), not application config.
  const shared = process.env.CHAIN_RPC_URL;
  const chain = shared
    ? { rpcUrl: shared, chainId: DEV_CHAIN_ID, stop: () => Promise.resolve() }
    : await startDevChain();
  try {
    const deployment = await deployContracts({
      rpcUrl: chain.rpcUrl,
      deployerPrivateKey: devPrivateKey(deployerIndex),
    });
    return {
      rpcUrl: chain.rpcUrl,
      chainId: deployment.chainId,
      dataPermissions: deployment.dataPermissions,
      deployBlock: deployment.blockNumber,
      client: createHearthPublicClient({
        rpcUrl: chain.rpcUrl,
        chainId: deployment.chainId,
        pollingIntervalMs: 50,
      }),
      testClient: createTestClient({ mode: 'hardhat', transport: http(chain.rpcUrl) }),
      stop: chain.stop,
    };
  } catch (err) {
    await chain.stop();
    throw err;
  }
}

/** Moves chain time forward and mines a block carrying the new time. */
export async function advanceTime(t: TestChain, seconds: number): Promise<void> {
  await t.testClient.increaseTime({ seconds });
  await t.testClient.mine({ blocks: 1 });
}

export async function latestTimestamp(t: TestChain): Promise<bigint> {
  return (await t.client.getBlock({ blockTag: 'latest' })).timestamp;
}

/**
 * Runs the part of a scenario that needs the chain clock to stay below `now + marginSeconds` (e.g. grant with an
 * expiry, then see it allowed). Test files share one dev chain and some advance its clock: when `setup` fails
 * and the clock has meanwhile passed the margin, another file moved it, and `setup` runs again (up to 4 times).
 * A failure with the clock still inside the margin is the scenario's own and is thrown at once.
 */
export async function withinClockMargin<T>(
  t: TestChain,
  marginSeconds: bigint,
  setup: (now: bigint) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const now = await latestTimestamp(t);
    try {
      return await setup(now);
    } catch (err) {
      if (attempt >= 4 || (await latestTimestamp(t)) < now + marginSeconds) throw err;
    }
  }
}

/** A random Hearth file id (`fil_<32 hex>`). */
export function randomFileId(): string {
  return `fil_${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')}`;
}
