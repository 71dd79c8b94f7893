import type { TextDocument } from '../text';
import {
  isDiscordExport,
  isSlackExport,
  isTelegramExport,
  looksLikeWhatsApp,
  parseDiscord,
  parseSlack,
  parseTelegram,
  parseWhatsApp,
} from './chat';
import { parseEmails } from './email';
import { parseCsv, parseGenericJson } from './generic';
import { looksLikeJournal, parseJournal, parsePlainText } from './journal';
import type { DataRecord, ParsedFile, RecordFormat } from './types';

type Guess = 'email' | 'mbox' | 'json' | 'csv' | 'whatsapp' | 'journal' | 'text';

function essence(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

const EMAIL_HEADERS =
  /^(?:return-path|received|from|to|subject|date|message-id|mime-version|delivered-to|x-[\w-]+):/i;

/** Headers up to a blank line, starting the text: an RFC 822 message. */
function looksLikeEmail(head: string): boolean {
  const lines = head.split(/\r?\n/, 40);
  let headers = 0;
  for (const line of lines) {
    if (line === '') return headers >= 2;
    if (EMAIL_HEADERS.test(line)) headers++;
    else if (!/^[ \t]/.test(line) && !/^[\w-]+:/.test(line)) return false;
  }
  return headers >= 3;
}

/**
 * What a file is, from its content type, then its name, then its first bytes. The content decides where the
 * two disagree in ways that matter (a `.txt` WhatsApp export, JSON uploaded as text/plain).
 */
export function detectFormat(contentType: string, name: string, text: string): Guess {
  const type = essence(contentType);
  const ext = extension(name);
  const head = text.slice(0, 64 * 1024).replace(/^\ufeff/, '');
  const trimmed = head.trimStart();
  if (type === 'application/mbox' || ext === 'mbox' || ext === 'mbx' || /^From \S+.*\r?\n[\w-]+:/.test(head))
    return 'mbox';
  if (type === 'message/rfc822' || ext === 'eml' || looksLikeEmail(head)) return 'email';
  if (
    type === 'text/csv' ||
    type === 'application/csv' ||
    ext === 'csv' ||
    ext === 'tsv' ||
    type === 'text/tab-separated-values'
  )
    return 'csv';
  if (type === 'application/json' || type.endsWith('+json') || ext === 'json') return 'json';
  // Before the JSON sniff: an iOS export's lines start with "[14/03/2024, …]".
  if (looksLikeWhatsApp(head)) return 'whatsapp';
  if (/^[[{]/.test(trimmed)) return 'json';
  if (looksLikeJournal(text)) return 'journal';
  return 'text';
}

async function parseAs(
  guess: Guess,
  doc: TextDocument,
  warnings: string[],
): Promise<{ format: RecordFormat; records: DataRecord[] }> {
  const { fileId, name, text } = doc;
  switch (guess) {
    case 'mbox':
    case 'email':
      return { format: guess, records: await parseEmails(text, fileId, name, guess, warnings) };
    case 'whatsapp':
      return { format: 'whatsapp', records: parseWhatsApp(text, fileId, name, warnings) };
    case 'journal':
      return { format: 'journal', records: parseJournal(text, fileId, name, warnings) };
    case 'csv':
      return { format: 'csv', records: parseCsv(text, fileId, name, warnings) };
    case 'json': {
      const value: unknown = JSON.parse(text);
      if (isTelegramExport(value))
        return { format: 'telegram', records: parseTelegram(value, fileId, name, warnings) };
      if (isDiscordExport(value))
        return { format: 'discord', records: parseDiscord(value, fileId, name, warnings) };
      if (isSlackExport(value))
        return { format: 'slack', records: parseSlack(value, fileId, name, warnings) };
      return { format: 'json', records: parseGenericJson(value, fileId, name, warnings) };
    }
    case 'text':
      return { format: 'text', records: parsePlainText(text, fileId, name, warnings) };
  }
}

/**
 * One file's records. A file that fails to parse as what it looks like is still read as plain text, with a
 * warning saying why; a parser that finds nothing in a non-empty file falls back the same way.
 */
export async function parseFile(
  doc: TextDocument,
  initialWarnings: readonly string[] = [],
): Promise<ParsedFile> {
  const warnings = [...initialWarnings];
  const guess = detectFormat(doc.contentType, doc.name, doc.text);
  try {
    const { format, records } = await parseAs(guess, doc, warnings);
    if (records.length > 0 || guess === 'text' || doc.text.trim() === '')
      return { fileId: doc.fileId, format, records, warnings };
    warnings.push(`no ${format} records found; read as plain text`);
  } catch (e) {
    const why =
      e instanceof SyntaxError
        ? 'it is not valid JSON'
        : e instanceof RangeError
          ? 'it is too deeply nested or too large'
          : 'its parser failed';
    warnings.push(`could not be read as ${guess} (${why}); read as plain text`);
  }
  return {
    fileId: doc.fileId,
    format: 'text',
    records: parsePlainText(doc.text, doc.fileId, doc.name, warnings),
    warnings,
  };
}
