import { closeSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';

const HARDHAT_MNEMONIC = 'test test test test test test test test test test test junk';

let claimed: `0x${string}` | undefined;

/**
 * Test files run in parallel and relay on one dev chain: each process relays from a dev account of its own
 * (Hardhat's funded accounts #1..#9, claimed with an exclusive lock file for the run, freed at exit), or their
 * transaction nonces would collide. Undefined off the dev chain or when all nine are taken.
 */
export function claimDevRelayerKey(): `0x${string}` | undefined {
  // why process.env: test harness input (the run's chain and queue namespace), not application config.
  if (claimed) return claimed;
  if (process.env.CHAIN_ID !== undefined && process.env.CHAIN_ID !== '31337') return undefined;
  const runId = (process.env.QUEUE_PREFIX ?? 'hearth-test').replace(/-\d+$/, '').replace(/[^a-z0-9_-]/gi, '');
  for (let index = 1; index <= 9; index++) {
    const lock = join(tmpdir(), `${runId}-relayer-${index}.lock`);
    try {
      closeSync(openSync(lock, 'wx'));
    } catch {
      continue;
    }
    process.on('exit', () => rmSync(lock, { force: true }));
    const key = mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex: index }).getHdKey().privateKey;
    if (!key) return undefined;
    claimed = toHex(key);
    return claimed;
  }
  return undefined;
}
