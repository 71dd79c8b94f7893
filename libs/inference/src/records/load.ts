import type { TextDocument } from '../text';
import { throwIfAborted } from '../text';
import { buildFileIndex, type FileIndex } from '../retrieval/file-index';
import { parseFile } from './parse';

/**
 * The records of each document: from the file's stored index when the worker handed one in (built once per
 * file version by the indexing job), else parsed and indexed now.
 */
export async function fileIndexesOf(
  docs: readonly TextDocument[],
  indexes: ReadonlyMap<string, FileIndex> | undefined,
  signal?: AbortSignal,
): Promise<FileIndex[]> {
  const out: FileIndex[] = [];
  for (const doc of docs) {
    throwIfAborted(signal);
    const stored = indexes?.get(doc.fileId);
    if (stored) {
      out.push(stored);
      continue;
    }
    out.push(buildFileIndex(await parseFile(doc, doc.warnings ?? [])));
  }
  return out;
}
