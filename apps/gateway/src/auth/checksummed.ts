import { getAddress } from 'viem';

/** Entries beyond this start the memo over: a bound on memory whatever addresses come by. */
const MAX_ENTRIES = 10_000;
const memo = new Map<string, `0x${string}`>();

/**
 * EIP-55 form of an address, remembered: the checksum is a keccak256, and every app request needs its key's
 * addresses in this form.
 */
export function checksummed(address: string): `0x${string}` {
  let out = memo.get(address);
  if (out === undefined) {
    if (memo.size >= MAX_ENTRIES) memo.clear();
    out = getAddress(address);
    memo.set(address, out);
  }
  return out;
}
