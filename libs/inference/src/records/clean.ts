import { RECORD_LIMITS } from './types';

/** Markdown and HTML markup removed, the words kept: `[Leah](x)` → `Leah`, `**bold**` → `bold`. */
export function stripMarkup(text: string): string {
  return (
    text
      // Fenced code is not prose.
      .replace(/^```[^\n]*\n[\s\S]*?^```[ \t]*$/gm, ' ')
      .replace(/<!--[\s\S]*?-->/g, ' ')
      .replace(/<\/?[a-zA-Z][^<>]{0,500}>/g, ' ')
      .replace(/!\[([^\]\n]{0,500})\]\([^)\n]{0,2000}\)/g, '$1')
      .replace(/\[([^\]\n]{0,500})\]\([^)\n]{0,2000}\)/g, '$1')
      .replace(/^[ \t]{0,3}#{1,6}[ \t]+/gm, '')
      .replace(/^[ \t]*>[ \t]?/gm, '')
      .replace(/^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?/gm, '')
      .replace(/^[ \t]*(?:[-*_][ \t]*){3,}$/gm, '')
      .replace(/(\*\*|__)(?=\S)([^\n]{0,2000}?\S)\1/g, '$2')
      .replace(/(^|[\s(])[*_](?=\S)([^*_\n]{0,2000}?\S)[*_](?=[\s).,;:!?]|$)/g, '$1$2')
      .replace(/`([^`\n]{0,2000})`/g, '$1')
      .replace(/&nbsp;/g, ' ')
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
  );
}

const ATTRIBUTION = /^(?:on\b.{0,300}\bwrote:|.{0,200}\b(?:wrote|schrieb|a écrit)\s*:)\s*$/i;
const FORWARD_OR_ORIGINAL = /^-{2,}\s*(?:original message|forwarded message)\s*-{2,}\s*$/i;
const OUTLOOK_SEPARATOR = /^_{10,}\s*$/;
const HEADER_BLOCK = /^(?:from|sent|to|cc|subject|date):\s/i;

/**
 * An email body without what it quotes: `>` lines, the "On … wrote:" line above them, and everything from an
 * "Original Message" / Outlook separator on; the signature after `-- ` goes too.
 */
export function stripQuotedReply(body: string): string {
  const lines = body.split(/\r?\n/);
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].slice(0, RECORD_LIMITS.maxLineChars);
    const trimmed = line.trim();
    if (line === '-- ' || line === '--') break;
    if (FORWARD_OR_ORIGINAL.test(trimmed)) break;
    if (OUTLOOK_SEPARATOR.test(trimmed) && HEADER_BLOCK.test(lines[i + 1] ?? '')) break;
    if (HEADER_BLOCK.test(trimmed) && HEADER_BLOCK.test(lines[i + 1] ?? '') && kept.length > 0) break;
    if (trimmed.startsWith('>')) continue;
    // "On Tue, 5 Mar 2024 at 10:12, Leah <l@x> wrote:" may wrap over two lines.
    const joined = `${trimmed} ${(lines[i + 1] ?? '').trim()}`;
    if (ATTRIBUTION.test(trimmed)) continue;
    if (/^on\b/i.test(trimmed) && ATTRIBUTION.test(joined) && (lines[i + 2] ?? '').trim().startsWith('>')) {
      i++;
      continue;
    }
    kept.push(line);
  }
  return kept.join('\n');
}

/** Collapsed whitespace (paragraph breaks kept), capped at the record limit on a code-point boundary. */
/** Whitespace `tidy` would change; most chat messages have none, and skip its five passes. */
const UNTIDY = /[\r\t\f\v\u00a0]| {2}| \n|\n |\n{3}/;

export function tidy(text: string, max: number = RECORD_LIMITS.maxRecordChars): string {
  if (text.length <= max && !UNTIDY.test(text)) return text.trim();
  let s = text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\f\v\u00a0]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  if (s.length > max) {
    let cut = max;
    const c = s.charCodeAt(cut - 1);
    if (c >= 0xd800 && c <= 0xdbff) cut--;
    s = s.slice(0, cut);
  }
  return s;
}

/** A short field (author, subject): one line, capped. */
export function field(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const s = tidy(/\s\s|[^\S ]/.test(value) ? value.replace(/\s+/g, ' ') : value, RECORD_LIMITS.maxFieldChars);
  return s === '' ? null : s;
}

/** "Re: Fwd: Dinner" → "dinner": what an email thread is known by when it carries no references. */
export function normalSubject(subject: string | null): string {
  return (subject ?? '')
    .replace(/^\s*(?:(?:re|fwd?|aw|sv|wg)\s*(?:\[\d+\])?\s*:\s*)+/i, '')
    .trim()
    .toLowerCase();
}
