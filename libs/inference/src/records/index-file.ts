import { InferenceError } from '../errors';
import {
  buildFileIndex,
  deserializeFileIndex,
  FILE_INDEX_VERSION,
  serializeFileIndex,
  type FileIndex,
} from '../retrieval/file-index';
import { prepareDocuments } from '../text';
import type { InputDocument } from '../types';
import { parseFile } from './parse';
import type { RecordFormat } from './types';

/** Files larger than this are not indexed (operations parse them on the fly, within their own limits). */
export const MAX_INDEXED_FILE_BYTES = 64 * 1024 * 1024;

export interface BuiltIndex {
  /** The serialized index: what the worker seals under the file's index key. */
  bytes: Buffer;
  formatVersion: number;
  format: RecordFormat;
  records: number;
  warnings: number;
}

/**
 * Parses one file into records and builds its search index (terms, vectors, aliases), bounded like an
 * operation's input: runs in the isolated child, once per file version.
 */
export async function indexFile(doc: InputDocument): Promise<BuiltIndex> {
  const [prepared] = prepareDocuments(
    [doc],
    { maxInputBytes: MAX_INDEXED_FILE_BYTES, maxOutputBytes: 0, maxDocuments: 1 },
    true,
  );
  if (!prepared) throw new InferenceError('no_input', 'nothing to index');
  const parsed = await parseFile(prepared, prepared.warnings ?? []);
  const index = buildFileIndex(parsed);
  return {
    bytes: serializeFileIndex(index),
    formatVersion: FILE_INDEX_VERSION,
    format: parsed.format,
    records: parsed.records.length,
    warnings: parsed.warnings.length,
  };
}

/** A stored index back from its bytes; null when it is of another format version (then the file is parsed). */
export function openFileIndex(bytes: Buffer): FileIndex | null {
  return deserializeFileIndex(bytes);
}

export { FILE_INDEX_VERSION, type FileIndex };
