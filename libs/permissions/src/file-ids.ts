/** A Hearth file id (`fil_<32 hex>`) maps to the uint256 `0x<hex>` on-chain, and back. */
const FILE_ID = /^fil_([0-9a-f]{32})$/;
const MAX_FILE_UINT = (1n << 128n) - 1n;

export function isFileId(value: unknown): value is string {
  return typeof value === 'string' && FILE_ID.test(value);
}

/** On-chain uint256 for a Hearth file id; throws on anything that is not `fil_<32 lowercase hex>`. */
export function fileIdToUint(fileId: string): bigint {
  const match = FILE_ID.exec(fileId);
  if (!match) throw new TypeError(`not a file id: ${JSON.stringify(fileId)}`);
  return BigInt(`0x${match[1]}`);
}

/** Hearth file id for an on-chain uint256; throws when the number cannot be one (negative or > 128 bits). */
export function uintToFileId(n: bigint): string {
  if (n < 0n || n > MAX_FILE_UINT) throw new RangeError(`not a file id number: ${n}`);
  return `fil_${n.toString(16).padStart(32, '0')}`;
}
