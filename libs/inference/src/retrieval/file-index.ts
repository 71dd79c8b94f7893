import type { DataRecord, ParsedFile, RecordFormat } from '../records/types';
import { AliasTable } from './aliases';
import { getEmbeddings, textVector } from './embeddings';
import { terms, words } from './tokenize';

/** What indexing one file version produces: its records, their index terms and vectors, and learned aliases. */
export interface FileIndex {
  fileId: string;
  format: RecordFormat;
  warnings: string[];
  records: DataRecord[];
  /** Index terms per record (subject, author and text). */
  terms: string[][];
  /** int8 vectors, `dims` per record (zeros where no word is known); null without embeddings. */
  vectors: Int8Array | null;
  dims: number;
  aliases: AliasTable;
}

export const FILE_INDEX_VERSION = 1;

/** The words a record is found by: its subject, author and text. */
export function searchableText(r: DataRecord): string {
  return [r.subject ?? '', r.author ?? '', r.text].join('\n');
}

export function buildFileIndex(parsed: ParsedFile): FileIndex {
  const e = getEmbeddings();
  const dims = e?.dims ?? 0;
  const vectors = e ? new Int8Array(parsed.records.length * dims) : null;
  const aliases = new AliasTable();
  const recordTerms = parsed.records.map((r, i) => {
    const text = searchableText(r);
    aliases.learn(r.text);
    if (e && vectors) textVector(e, words(text), vectors.subarray(i * dims, (i + 1) * dims));
    return terms(text);
  });
  return {
    fileId: parsed.fileId,
    format: parsed.format,
    warnings: parsed.warnings,
    records: parsed.records,
    terms: recordTerms,
    vectors,
    dims,
    aliases,
  };
}

/** `u32 JSON length`, JSON (records, terms, aliases…), then the int8 vectors: what gets encrypted and stored. */
export function serializeFileIndex(index: FileIndex): Buffer {
  const json = Buffer.from(
    JSON.stringify({
      v: FILE_INDEX_VERSION,
      fileId: index.fileId,
      format: index.format,
      warnings: index.warnings,
      records: index.records,
      terms: index.terms.map((t) => t.join(' ')),
      dims: index.vectors ? index.dims : 0,
      aliases: index.aliases.toJSON(),
    }),
    'utf8',
  );
  const head = Buffer.alloc(4);
  head.writeUInt32LE(json.length, 0);
  const vectors = index.vectors ? Buffer.from(index.vectors.buffer, index.vectors.byteOffset, index.vectors.byteLength) : Buffer.alloc(0);
  return Buffer.concat([head, json, vectors]);
}

interface SerializedIndex {
  v: number;
  fileId: string;
  format: RecordFormat;
  warnings: string[];
  records: DataRecord[];
  terms: string[];
  dims: number;
  aliases: unknown;
}

/** The index back from its bytes; null for another version (it is rebuilt, or the file parsed on the fly). */
export function deserializeFileIndex(bytes: Buffer): FileIndex | null {
  if (bytes.length < 4) return null;
  const length = bytes.readUInt32LE(0);
  if (4 + length > bytes.length) return null;
  const parsed = JSON.parse(bytes.toString('utf8', 4, 4 + length)) as SerializedIndex;
  if (parsed.v !== FILE_INDEX_VERSION) return null;
  const rest = bytes.subarray(4 + length);
  const vectors = parsed.dims > 0 ? new Int8Array(rest.buffer.slice(rest.byteOffset, rest.byteOffset + rest.byteLength)) : null;
  if (vectors && vectors.length !== parsed.records.length * parsed.dims) return null;
  return {
    fileId: parsed.fileId,
    format: parsed.format,
    warnings: parsed.warnings,
    records: parsed.records,
    terms: parsed.terms.map((t) => (t === '' ? [] : t.split(' '))),
    vectors,
    dims: parsed.dims,
    aliases: AliasTable.fromJSON(parsed.aliases),
  };
}
