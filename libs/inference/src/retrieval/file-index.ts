import type { DataRecord, ParsedFile, RecordFormat } from '../records/types';
import { AliasTable } from './aliases';
import { getEmbeddings, textVector } from './embeddings';
import { termsOfWords, words } from './tokenize';

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

/**
 * The words a record is found by: its subject and text. Not its author: in a chat every message of a person
 * would match their name (the retriever boosts authorship separately).
 */
export function searchableText(r: DataRecord): string {
  return r.subject ? `${r.subject}\n${r.text}` : r.text;
}

export function buildFileIndex(parsed: ParsedFile): FileIndex {
  const e = getEmbeddings();
  const dims = e?.dims ?? 0;
  const vectors = e ? new Int8Array(parsed.records.length * dims) : null;
  const aliases = new AliasTable();
  const recordTerms = parsed.records.map((r, i) => {
    const ws = words(searchableText(r));
    aliases.learn(r.text);
    if (e && vectors) textVector(e, ws, vectors.subarray(i * dims, (i + 1) * dims));
    return termsOfWords(ws);
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

/** One record in the stored index: columns instead of keys, shared values as indexes into the tables. */
type CompactRecord = [
  kind: DataRecord['kind'],
  author: string | null,
  participants: number,
  time: string | null,
  subject: string | null,
  text: string,
  thread: number,
];

interface SerializedIndex {
  v: number;
  fileId: string;
  name: string;
  format: RecordFormat;
  warnings: string[];
  /** Distinct participant lists and threads, referenced by index (-1: none). */
  participants: string[][];
  threads: string[];
  records: CompactRecord[];
  terms: string[];
  dims: number;
  aliases: unknown;
}

/** `u32 JSON length`, JSON (records, terms, aliases…), then the int8 vectors: what gets encrypted and stored. */
export function serializeFileIndex(index: FileIndex): Buffer {
  const participants: string[][] = [];
  const participantIds = new Map<string, number>();
  const threads: string[] = [];
  const threadIds = new Map<string, number>();
  const intern = <T>(value: T, key: string, table: T[], ids: Map<string, number>): number => {
    let id = ids.get(key);
    if (id === undefined) {
      id = table.push(value) - 1;
      ids.set(key, id);
    }
    return id;
  };
  const records = index.records.map((r): CompactRecord => [
    r.kind,
    r.author,
    r.participants.length === 0
      ? -1
      : intern(r.participants, r.participants.join('\u0000'), participants, participantIds),
    r.time,
    r.subject,
    r.text,
    r.source.thread === undefined ? -1 : intern(r.source.thread, r.source.thread, threads, threadIds),
  ]);
  const body: SerializedIndex = {
    v: FILE_INDEX_VERSION,
    fileId: index.fileId,
    name: index.records[0]?.source.name ?? '',
    format: index.format,
    warnings: index.warnings,
    participants,
    threads,
    records,
    terms: index.terms.map((t) => t.join(' ')),
    dims: index.vectors ? index.dims : 0,
    aliases: index.aliases.toJSON(),
  };
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32LE(json.length, 0);
  const vectors = index.vectors
    ? Buffer.from(index.vectors.buffer, index.vectors.byteOffset, index.vectors.byteLength)
    : Buffer.alloc(0);
  return Buffer.concat([head, json, vectors]);
}

/** The index back from its bytes; null for another version (it is rebuilt, or the file parsed on the fly). */
export function deserializeFileIndex(bytes: Buffer): FileIndex | null {
  if (bytes.length < 4) return null;
  const length = bytes.readUInt32LE(0);
  if (4 + length > bytes.length) return null;
  const parsed = JSON.parse(bytes.toString('utf8', 4, 4 + length)) as SerializedIndex;
  if (parsed.v !== FILE_INDEX_VERSION) return null;
  const rest = bytes.subarray(4 + length);
  const vectors =
    parsed.dims > 0
      ? new Int8Array(rest.buffer.slice(rest.byteOffset, rest.byteOffset + rest.byteLength))
      : null;
  if (vectors && vectors.length !== parsed.records.length * parsed.dims) return null;
  const none: string[] = [];
  const records = parsed.records.map(([kind, author, p, time, subject, text, thread], i): DataRecord => {
    const source: DataRecord['source'] =
      thread < 0
        ? { fileId: parsed.fileId, name: parsed.name, format: parsed.format }
        : {
            fileId: parsed.fileId,
            name: parsed.name,
            format: parsed.format,
            thread: parsed.threads[thread] ?? '',
          };
    return {
      id: `${parsed.fileId}#${i}`,
      kind,
      author,
      participants: p < 0 ? none : (parsed.participants[p] ?? none),
      time,
      subject,
      text,
      source,
    };
  });
  return {
    fileId: parsed.fileId,
    format: parsed.format,
    warnings: parsed.warnings,
    records,
    terms: parsed.terms.map((t) => (t === '' ? [] : t.split(' '))),
    vectors,
    dims: parsed.dims,
    aliases: AliasTable.fromJSON(parsed.aliases),
  };
}
