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

/**
 * A collective's dataset id (`dst_<32 hex>`) in a grant's on-chain file scope: the uint256 `2^128 + 0x<hex>`.
 * The extra bit keeps every dataset number apart from every file number (those stay below 2^128), so a grant
 * on a collective can name datasets where a personal server's grant names files, with no contract change.
 */
const DATASET_ID = /^dst_([0-9a-f]{32})$/;
const DATASET_BIT = 1n << 128n;

export function isDatasetId(value: unknown): value is string {
  return typeof value === 'string' && DATASET_ID.test(value);
}

export function datasetIdToUint(datasetId: string): bigint {
  const match = DATASET_ID.exec(datasetId);
  if (!match) throw new TypeError(`not a dataset id: ${JSON.stringify(datasetId)}`);
  return DATASET_BIT | BigInt(`0x${match[1]}`);
}

/** A file or dataset id for an on-chain scope number; throws for a number that is neither. */
export function uintToScopeId(n: bigint): string {
  if (n >= DATASET_BIT && n < DATASET_BIT << 1n) {
    return `dst_${(n - DATASET_BIT).toString(16).padStart(32, '0')}`;
  }
  return uintToFileId(n);
}

/** What a grant's scope may name: files (`fil_…`) or, on a collective, datasets (`dst_…`). */
export function scopeIdToUint(id: string): bigint {
  return isDatasetId(id) ? datasetIdToUint(id) : fileIdToUint(id);
}
