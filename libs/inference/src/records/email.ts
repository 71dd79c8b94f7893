import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { field, normalSubject, stripMarkup, stripQuotedReply, tidy } from './clean';
import { RECORD_LIMITS, type DataRecord, type RecordFormat } from './types';

/** One message's raw text is cut here before mailparser sees it (attachments make messages large). */
const MAX_MESSAGE_CHARS = 4 * 1024 * 1024;
/** mailparser's own bounds: no huge HTML conversions, no deep MIME trees. */
const PARSER_OPTIONS = {
  skipImageLinks: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  maxHtmlLengthToParse: 2 * 1024 * 1024,
  maxChildNodes: 256,
  checksumAlgo: false,
} as const;

/** Splits an mbox at its `From ` separator lines (mboxrd/mboxo: `>From ` in bodies is unescaped). */
export function splitMbox(text: string, limit: number, warnings: string[]): string[] {
  const out: string[] = [];
  const separator = /^From [^\n]*\n/gm;
  let start = -1;
  let m: RegExpExecArray | null;
  while ((m = separator.exec(text)) !== null) {
    // A separator starts the file or follows a blank line; elsewhere it is body text.
    if (m.index !== 0 && text[m.index - 1] !== '\n') continue;
    if (start >= 0) out.push(text.slice(start, m.index));
    start = m.index + m[0].length;
    if (out.length >= limit) {
      warnings.push(`mbox has more than ${limit} messages; the rest were not read`);
      return out.map(unescapeFrom);
    }
  }
  if (start >= 0) out.push(text.slice(start));
  else if (text.trim() !== '') {
    warnings.push('mbox has no "From " separator line; read as one message');
    out.push(text);
  }
  return out.map(unescapeFrom);
}

function unescapeFrom(message: string): string {
  return message.replace(/^>(>*From )/gm, '$1');
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  const out: string[] = [];
  for (const a of list) {
    for (const e of a.value) {
      const name = field(e.name) ?? field(e.address);
      if (name) out.push(name);
      for (const g of e.group ?? []) {
        const gn = field(g.name) ?? field(g.address);
        if (gn) out.push(gn);
      }
    }
  }
  return out;
}

function referencesOf(mail: ParsedMail): string[] {
  const refs = mail.references;
  return (Array.isArray(refs) ? refs : refs ? refs.split(/\s+/) : []).filter((r) => r.length > 0);
}

interface ParsedMessage {
  mail: ParsedMail;
  body: string;
}

/** The readable body: the text part, or the HTML part's text; quoted replies and markup removed. */
function bodyOf(mail: ParsedMail): string {
  const raw =
    mail.text ?? (typeof mail.html === 'string' ? mail.html.replace(/<(?:br|\/p|\/div)[^>]*>/gi, '\n') : '');
  return tidy(stripMarkup(stripQuotedReply(raw)));
}

/**
 * Email: one `.eml` or an mbox of many, through mailparser. Headers become fields, never text; quoted replies
 * and signatures are dropped; messages join threads by References / In-Reply-To, else by subject.
 */
export async function parseEmails(
  text: string,
  fileId: string,
  name: string,
  format: Extract<RecordFormat, 'email' | 'mbox'>,
  warnings: string[],
): Promise<DataRecord[]> {
  const raws = format === 'mbox' ? splitMbox(text, RECORD_LIMITS.maxRecordsPerFile, warnings) : [text];
  const parsed: ParsedMessage[] = [];
  let failed = 0;
  for (const raw of raws) {
    if (raw.trim() === '') continue;
    try {
      const mail = await simpleParser(
        raw.length > MAX_MESSAGE_CHARS ? raw.slice(0, MAX_MESSAGE_CHARS) : raw,
        PARSER_OPTIONS,
      );
      parsed.push({ mail, body: bodyOf(mail) });
    } catch {
      failed++;
    }
  }
  if (failed > 0) warnings.push(`${failed} message(s) could not be parsed as email and were skipped`);
  const threads = threadIds(parsed.map((p) => p.mail));
  const records: DataRecord[] = [];
  parsed.forEach(({ mail, body }, i) => {
    const from = addresses(mail.from);
    const to = [...addresses(mail.to), ...addresses(mail.cc)];
    const participants = [...new Set([...from, ...to])].slice(0, RECORD_LIMITS.maxParticipants);
    const date = mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date.toISOString() : null;
    records.push({
      id: `${fileId}#${records.length}`,
      kind: 'email',
      author: from[0] ?? null,
      participants,
      time: date,
      subject: field(mail.subject),
      text: body,
      source: { fileId, name, format, thread: threads[i] },
    });
  });
  return records;
}

/**
 * Thread ids: a message's thread is its first reference's (the root), else the thread of what it replies to,
 * else its own id; messages with neither join an earlier message of the same normalised subject.
 */
export function threadIds(mails: readonly ParsedMail[]): string[] {
  const byMessageId = new Map<string, string>();
  const bySubject = new Map<string, string>();
  return mails.map((mail, i) => {
    const refs = referencesOf(mail);
    const parent = mail.inReplyTo?.trim();
    const subject = normalSubject(mail.subject ?? null);
    const root = refs[0];
    const thread =
      (root ? (byMessageId.get(root) ?? root) : '') ||
      (parent ? (byMessageId.get(parent) ?? parent) : '') ||
      (subject ? bySubject.get(subject) : '') ||
      mail.messageId ||
      `message-${i}`;
    if (mail.messageId) byMessageId.set(mail.messageId, thread);
    if (subject && !bySubject.has(subject)) bySubject.set(subject, thread);
    return thread;
  });
}
