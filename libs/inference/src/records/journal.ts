import { field, stripMarkup, tidy } from './clean';
import { findDate } from './dates';
import { RECORD_LIMITS, type DataRecord } from './types';

/** A heading line: Markdown `#…`, or a short line that starts with a date (`Monday 14 March 2024 — Lake`). */
function headingDate(line: string): { time: string; title: string | null } | null {
  const md = /^[ \t]{0,3}#{1,6}[ \t]+(.*)$/.exec(line);
  const candidate = md ? md[1] : line.length <= 120 ? line : null;
  if (candidate === null) return null;
  const time = findDate(candidate);
  if (!time) return null;
  // A plain line counts as a heading only when the date opens it ("14 March 2024", "Mon 2024-03-14: …").
  if (
    !md &&
    !/^\W{0,3}(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?(?:\d|[a-z]{3,9}\.?\s+\d)/i.test(
      candidate.trim(),
    )
  )
    return null;
  const title = candidate
    .replace(/\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b/, '')
    .replace(/\b(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\b\.?,?/i, '')
    .replace(
      /\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?[a-z]{3,9}\.?,?\s+\d{4}\b|\b[a-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b/i,
      '',
    )
    .replace(/^[\s\-–—:|,.]+|[\s\-–—:|,.]+$/g, '');
  return { time, title: field(title) };
}

/** Two or more dated headings: the file is a journal. */
export function looksLikeJournal(text: string): boolean {
  let n = 0;
  for (const line of text.slice(0, 256 * 1024).split('\n', 5000)) {
    if (headingDate(line.trimEnd()) && ++n >= 2) return true;
  }
  return false;
}

/** Entries between dated headings; text before the first heading is an undated entry of its own. */
export function parseJournal(text: string, fileId: string, name: string, warnings: string[]): DataRecord[] {
  const records: DataRecord[] = [];
  let current: { time: string | null; title: string | null; lines: string[] } = {
    time: null,
    title: null,
    lines: [],
  };
  let truncated = false;
  const flush = () => {
    const body = tidy(stripMarkup(current.lines.join('\n')));
    if (body !== '' || current.title) {
      records.push({
        id: `${fileId}#${records.length}`,
        kind: 'entry',
        author: null,
        participants: [],
        time: current.time,
        subject: current.title,
        text: body,
        source: { fileId, name, format: 'journal' },
      });
    }
  };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').slice(0, RECORD_LIMITS.maxLineChars);
    const heading = headingDate(line.trimEnd());
    if (heading) {
      flush();
      if (records.length >= RECORD_LIMITS.maxRecordsPerFile) {
        truncated = true;
        break;
      }
      current = { time: heading.time, title: heading.title, lines: [] };
    } else if (current.lines.length < 10_000) {
      current.lines.push(line);
    }
  }
  if (!truncated) flush();
  else
    warnings.push(`journal has more than ${RECORD_LIMITS.maxRecordsPerFile} entries; the rest were not read`);
  return records;
}

/** Target size of a plain document's records: a few paragraphs. */
const DOCUMENT_CHUNK_CHARS = 1500;

/**
 * Plain text (and the fallback for anything that failed to parse): runs of paragraphs of about 1500
 * characters, a paragraph longer than a record cut at word boundaries.
 */
export function parsePlainText(text: string, fileId: string, name: string, warnings: string[]): DataRecord[] {
  const records: DataRecord[] = [];
  const clean = stripMarkup(text.length > 64 * 1024 * 1024 ? text.slice(0, 64 * 1024 * 1024) : text);
  let buffer = '';
  const push = (chunk: string) => {
    const body = tidy(chunk);
    if (body === '' || records.length >= RECORD_LIMITS.maxRecordsPerFile) return;
    records.push({
      id: `${fileId}#${records.length}`,
      kind: 'document',
      author: null,
      participants: [],
      time: null,
      subject: null,
      text: body,
      source: { fileId, name, format: 'text' },
    });
  };
  for (const para of clean.split(/\n[ \t]*\n/)) {
    if (records.length >= RECORD_LIMITS.maxRecordsPerFile) {
      warnings.push(`text has more than ${RECORD_LIMITS.maxRecordsPerFile} passages; the rest were not read`);
      return records;
    }
    if (buffer.length + para.length > DOCUMENT_CHUNK_CHARS && buffer !== '') {
      push(buffer);
      buffer = '';
    }
    if (para.length <= DOCUMENT_CHUNK_CHARS) {
      buffer += (buffer === '' ? '' : '\n\n') + para;
      continue;
    }
    for (let at = 0; at < para.length && records.length < RECORD_LIMITS.maxRecordsPerFile;) {
      let end = Math.min(para.length, at + DOCUMENT_CHUNK_CHARS);
      if (end < para.length) {
        const space = para.lastIndexOf(' ', end);
        if (space > at + DOCUMENT_CHUNK_CHARS / 2) end = space;
        else if (/[\ud800-\udbff]/.test(para[end - 1] ?? '')) end--;
      }
      push(para.slice(at, end));
      at = end;
    }
  }
  if (buffer !== '') push(buffer);
  return records;
}
