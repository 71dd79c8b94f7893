/** What one file becomes: the records a person's data is made of, not a bag of sentences. */
export type RecordKind = 'message' | 'email' | 'entry' | 'document';

export type RecordFormat =
  'email' | 'mbox' | 'whatsapp' | 'telegram' | 'slack' | 'discord' | 'journal' | 'json' | 'csv' | 'text';

export interface RecordSource {
  fileId: string;
  /** The file's name as uploaded (opened inside the child only). */
  name: string;
  format: RecordFormat;
  /** Email thread, chat or channel the record belongs to. */
  thread?: string;
}

export interface DataRecord {
  /** `<fileId>#<n>`: stable for one file version, cited by answers. */
  id: string;
  kind: RecordKind;
  author: string | null;
  participants: string[];
  /** ISO 8601 UTC, or null when the data gives no date. */
  time: string | null;
  subject: string | null;
  /** Clean text: no headers, quoted replies or markup. */
  text: string;
  source: RecordSource;
}

export interface ParsedFile {
  fileId: string;
  format: RecordFormat;
  records: DataRecord[];
  /** Why parsing fell back or stopped early; never contains the data itself. */
  warnings: string[];
}

/** Bounds that keep hostile input (10^6 messages, a 2 GiB single line) cheap. */
export const RECORD_LIMITS = {
  /** Records kept per file; past it the rest is dropped with a warning. */
  maxRecordsPerFile: 50_000,
  /** Characters of text per record. */
  maxRecordChars: 20_000,
  /** Characters of a line the line-based parsers look at. */
  maxLineChars: 64 * 1024,
  /** Characters of a subject, author or participant. */
  maxFieldChars: 300,
  /** Participants kept per record. */
  maxParticipants: 50,
  /** Levels of JSON the generic walker descends. */
  maxJsonDepth: 12,
} as const;
