import { field, stripMarkup, tidy } from './clean';
import { parseTimestamp } from './dates';
import { RECORD_LIMITS, type DataRecord, type RecordFormat } from './types';

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const TEXT_KEYS = [
  'text',
  'body',
  'content',
  'message',
  'note',
  'notes',
  'entry',
  'description',
  'summary',
  'comment',
];
const SUBJECT_KEYS = ['subject', 'title', 'heading', 'name'];
const TIME_KEYS = [
  'time',
  'date',
  'timestamp',
  'datetime',
  'created_at',
  'createdAt',
  'created',
  'sent',
  'ts',
];
const AUTHOR_KEYS = ['author', 'from', 'sender', 'user', 'username', 'by', 'owner'];

function pick(obj: Record<string, Json>, keys: readonly string[]): Json {
  for (const k of keys) if (k in obj) return obj[k];
  const lower = new Map(Object.keys(obj).map((k) => [k.toLowerCase(), k]));
  for (const k of keys) {
    const real = lower.get(k.toLowerCase());
    if (real !== undefined) return obj[real];
  }
  return undefined;
}

function authorOf(value: Json): string | null {
  if (isObject(value)) return field(value.name) ?? field(value.username) ?? field(value.email);
  return field(value);
}

/** The string values of an object (never its keys), so field names are not taken for the person's words. */
function stringValues(value: Json, depth: number, out: string[]): void {
  if (depth > RECORD_LIMITS.maxJsonDepth || out.length > 1000) return;
  if (typeof value === 'string') {
    // Ids, hashes and timestamps are not prose.
    if (/\s/.test(value.trim()) || /^\p{L}{3,}$/u.test(value)) out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value.slice(0, 1000)) stringValues(v, depth + 1, out);
  } else if (isObject(value)) {
    for (const v of Object.values(value)) stringValues(v, depth + 1, out);
  }
}

function recordOf(
  obj: Record<string, Json>,
  fileId: string,
  name: string,
  format: RecordFormat,
  n: number,
): DataRecord | null {
  const main = pick(obj, TEXT_KEYS);
  let text: string;
  if (typeof main === 'string') text = main;
  else {
    const parts: string[] = [];
    stringValues(main ?? obj, 0, parts);
    text = parts.join('\n');
  }
  const subjectValue = pick(obj, SUBJECT_KEYS);
  const subject = field(subjectValue);
  const body = tidy(stripMarkup(text === subject ? text : text));
  if (body === '' && !subject) return null;
  return {
    id: `${fileId}#${n}`,
    kind: 'document',
    author: authorOf(pick(obj, AUTHOR_KEYS)),
    participants: [],
    time: parseTimestamp(pick(obj, TIME_KEYS)),
    subject: body === subject ? null : subject,
    text: body === '' ? (subject ?? '') : body,
    source: { fileId, name, format },
  };
}

/** The largest array of objects in the value (breadth-first, bounded): a generic export's list of items. */
function itemsOf(value: Json): Record<string, Json>[] | null {
  const queue: { v: Json; depth: number }[] = [{ v: value, depth: 0 }];
  let best: Record<string, Json>[] | null = null;
  for (let seen = 0; queue.length > 0 && seen < 10_000; seen++) {
    const { v, depth } = queue.shift()!;
    if (depth > RECORD_LIMITS.maxJsonDepth) continue;
    if (Array.isArray(v)) {
      const objects = v.filter(isObject);
      if (objects.length > 0 && objects.length >= v.length / 2 && (!best || objects.length > best.length))
        best = objects;
      continue;
    }
    if (isObject(v)) for (const child of Object.values(v)) queue.push({ v: child, depth: depth + 1 });
  }
  return best;
}

/** Generic JSON: each object of its main list is a record; a lone object is one record. */
export function parseGenericJson(
  value: Json,
  fileId: string,
  name: string,
  warnings: string[],
): DataRecord[] {
  const items = itemsOf(value) ?? (isObject(value) ? [value] : []);
  const records: DataRecord[] = [];
  for (const item of items) {
    if (records.length >= RECORD_LIMITS.maxRecordsPerFile) {
      warnings.push(`JSON has more than ${RECORD_LIMITS.maxRecordsPerFile} items; the rest were not read`);
      break;
    }
    const r = recordOf(item, fileId, name, 'json', records.length);
    if (r) records.push(r);
  }
  if (records.length === 0 && (typeof value === 'string' || Array.isArray(value))) {
    const parts: string[] = [];
    stringValues(value, 0, parts);
    const text = tidy(parts.join('\n'));
    if (text !== '')
      records.push({
        id: `${fileId}#0`,
        kind: 'document',
        author: null,
        participants: [],
        time: null,
        subject: null,
        text,
        source: { fileId, name, format: 'json' },
      });
  }
  return records;
}

/** RFC 4180 rows (quoted fields, doubled quotes, newlines inside quotes), bounded in rows and field size. */
export function* csvRows(text: string, delimiter: string, maxRows: number): Generator<string[]> {
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let rows = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          if (cell.length < RECORD_LIMITS.maxRecordChars) cell += '"';
          i++;
        } else quoted = false;
      } else if (cell.length < RECORD_LIMITS.maxRecordChars) cell += c;
      continue;
    }
    if (c === '"' && cell === '') quoted = true;
    else if (c === delimiter) {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      cell = '';
      yield row;
      row = [];
      if (++rows >= maxRows) return;
    } else if (cell.length < RECORD_LIMITS.maxRecordChars) cell += c;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    yield row;
  }
}

export function csvDelimiter(head: string): string {
  const line = head.split('\n', 1)[0] ?? '';
  const counts = [',', ';', '\t'].map((d) => [d, line.split(d).length] as const);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0][0];
}

/** CSV with a header row: each row an object keyed by the header, read like a generic JSON item. */
export function parseCsv(text: string, fileId: string, name: string, warnings: string[]): DataRecord[] {
  const rows = csvRows(text, csvDelimiter(text.slice(0, 4096)), RECORD_LIMITS.maxRecordsPerFile + 1);
  const header = rows.next();
  if (header.done) return [];
  const keys = header.value.map((k) => k.trim());
  const records: DataRecord[] = [];
  let n = 0;
  for (const row of rows) {
    if (++n > RECORD_LIMITS.maxRecordsPerFile) {
      warnings.push(`CSV has more than ${RECORD_LIMITS.maxRecordsPerFile} rows; the rest were not read`);
      break;
    }
    if (row.every((c) => c.trim() === '')) continue;
    const obj: Record<string, Json> = {};
    keys.forEach((k, i) => (obj[k || `column${i + 1}`] = row[i] ?? ''));
    const r = recordOf(obj, fileId, name, 'csv', records.length);
    if (r) records.push(r);
  }
  return records;
}
