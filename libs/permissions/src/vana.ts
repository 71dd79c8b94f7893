import { getAddress, type Address, type PublicClient } from 'viem';
import { isTransportError } from './errors';
import { abi as vanaAbi } from './generated/IVanaDataPermission';

/** A requester no one whitelists on purpose; only used to see whether `authorized(address)` answers. */
const PROBE: Address = '0x000000000000000000000000000000000000dEaD';

/**
 * Whether `address` holds a contract that answers the seed's IVanaDataPermission calls (`owner()` and
 * `authorized(address)`). False for an EOA or a contract that reverts; transport failures are thrown
 * (the caller decides: the gateway answers chain_unavailable).
 */
export async function isVanaDataPermissionContract(client: PublicClient, address: Address): Promise<boolean> {
  const target = getAddress(address);
  const code = await client.getCode({ address: target });
  if (code === undefined || code === '0x') return false;
  try {
    await Promise.all([
      client.readContract({ address: target, abi: vanaAbi, functionName: 'owner' }),
      client.readContract({ address: target, abi: vanaAbi, functionName: 'authorized', args: [PROBE] }),
      client.readContract({ address: target, abi: vanaAbi, functionName: 'authorized', args: [PROBE, 1n] }),
    ]);
    return true;
  } catch (err) {
    if (isTransportError(err)) throw err;
    return false;
  }
}
