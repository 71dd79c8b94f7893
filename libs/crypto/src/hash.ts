import { createHash, type Hash } from 'node:crypto';

export type HashInput = Uint8Array | string;

/** SHA-256 over the concatenation of the parts (strings as UTF-8), lowercase hex without 0x. */
export function sha256Hex(...parts: HashInput[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** Same digest as `0x`-prefixed bytes32, as EIP-712 receipts carry it. */
export function sha256Bytes32(...parts: HashInput[]): `0x${string}` {
  return `0x${sha256Hex(...parts)}`;
}

/** SHA-256 of a stream of parts (e.g. a file's sealed chunk rows in order), without holding them. */
export async function sha256HexOf(source: AsyncIterable<HashInput> | Iterable<HashInput>): Promise<string> {
  const hash: Hash = createHash('sha256');
  for await (const part of source) hash.update(part);
  return hash.digest('hex');
}
