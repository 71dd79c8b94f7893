import { field, stripMarkup, tidy } from './clean';
import { numericDate, parseClock, parseTimestamp } from './dates';
import { RECORD_LIMITS, type DataRecord } from './types';

type Json = unknown;

const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------- WhatsApp

/** `14/03/2024, 18:03 - Leah: …` (Android) or `[14/03/2024, 18:03:21] Leah: …` (iOS), either date order. */
const WHATSAPP_LINE =
  /^\u200e?\[?(\d{1,2})[/.](\d{1,2})[/.](\d{2,4}),?\s+(\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:\s?[APap]\.?\s?[Mm]\.?)?)\]?\s*(?:[-–]\s*)?(.*)$/;
const SENDER = /^([^:\n]{1,100}?):\s?([\s\S]*)$/;
const MEDIA =
  /^\u200e?<(?:media omitted|[^>]{0,40} omitted)>$|^\u200e?(?:image|video|audio|sticker|GIF|document) omitted$/i;

/** True when most of the first lines look like WhatsApp's export. */
export function looksLikeWhatsApp(head: string): boolean {
  const lines = head.split('\n', 20).filter((l) => l.trim() !== '');
  if (lines.length === 0) return false;
  const hits = lines.filter((l) => WHATSAPP_LINE.test(l.slice(0, 300))).length;
  return hits >= Math.max(1, Math.ceil(lines.length / 2));
}

export function parseWhatsApp(text: string, fileId: string, name: string, warnings: string[]): DataRecord[] {
  const lines = text.split('\n');
  // Day first unless some date cannot be (a second number past 12 means month first).
  let dayFirst = true;
  for (const line of lines.slice(0, 2000)) {
    const m = WHATSAPP_LINE.exec(line.slice(0, 300));
    if (!m) continue;
    if (+m[1] > 12) break;
    if (+m[2] > 12) {
      dayFirst = false;
      break;
    }
  }
  const records: DataRecord[] = [];
  const participants = new Set<string>();
  let current: { author: string; time: string | null; parts: string[] } | null = null;
  let truncated = false;
  const flush = () => {
    if (!current) return;
    const body = tidy(current.parts.join('\n'));
    if (body !== '' && !MEDIA.test(body)) {
      records.push({
        id: `${fileId}#${records.length}`,
        kind: 'message',
        author: current.author,
        participants: [],
        time: current.time,
        subject: null,
        text: body,
        source: { fileId, name, format: 'whatsapp', thread: name },
      });
    }
    current = null;
  };
  for (const rawLine of lines) {
    let line =
      rawLine.length > RECORD_LIMITS.maxLineChars ? rawLine.slice(0, RECORD_LIMITS.maxLineChars) : rawLine;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const m = WHATSAPP_LINE.exec(line);
    if (m) {
      flush();
      if (records.length >= RECORD_LIMITS.maxRecordsPerFile) {
        truncated = true;
        break;
      }
      const clock = parseClock(m[4].replace(/\./g, ':')) ?? [0, 0, 0];
      const time = numericDate(+m[1], +m[2], +m[3], dayFirst, ...clock);
      const sender = SENDER.exec(m[5]);
      // Lines without "Name:" are WhatsApp's own notices (encryption, someone joined): not the person's data.
      if (!sender) continue;
      const author = field(sender[1]) ?? 'unknown';
      participants.add(author);
      current = { author, time, parts: [sender[2]] };
    } else if (current && current.parts.length < 1000) {
      current.parts.push(line);
    }
  }
  flush();
  if (truncated)
    warnings.push(`chat has more than ${RECORD_LIMITS.maxRecordsPerFile} messages; the rest were not read`);
  const everyone = [...participants].slice(0, RECORD_LIMITS.maxParticipants);
  for (const r of records) r.participants = everyone;
  return records;
}

// ---------------------------------------------------------------- JSON chat exports

interface ChatMessage {
  author: string | null;
  time: string | null;
  text: string;
}

function finish(
  messages: Iterable<ChatMessage>,
  fileId: string,
  name: string,
  format: 'telegram' | 'slack' | 'discord',
  thread: string,
  records: DataRecord[],
  warnings: string[],
): void {
  const start = records.length;
  const participants = new Set<string>();
  for (const m of messages) {
    if (records.length >= RECORD_LIMITS.maxRecordsPerFile) {
      warnings.push(`chat has more than ${RECORD_LIMITS.maxRecordsPerFile} messages; the rest were not read`);
      break;
    }
    const text = tidy(m.text);
    if (text === '') continue;
    if (m.author) participants.add(m.author);
    records.push({
      id: `${fileId}#${records.length}`,
      kind: 'message',
      author: m.author,
      participants: [],
      time: m.time,
      subject: null,
      text,
      source: { fileId, name, format, thread },
    });
  }
  const everyone = [...participants].slice(0, RECORD_LIMITS.maxParticipants);
  for (let i = start; i < records.length; i++) records[i].participants = everyone;
}

/** Telegram's text: a string, or an array of strings and `{type, text}` entities. */
function telegramText(value: Json): string {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return '';
  return value
    .slice(0, 10_000)
    .map((part) =>
      typeof part === 'string' ? part : isObject(part) && typeof part.text === 'string' ? part.text : '',
    )
    .join('');
}

export function isTelegramExport(value: Json): boolean {
  if (!isObject(value)) return false;
  if (Array.isArray(value.messages)) {
    const first = value.messages.find(isObject);
    return (
      first !== undefined &&
      ('date' in first || 'date_unixtime' in first) &&
      ('text' in first || 'from' in first)
    );
  }
  return isObject(value.chats) && Array.isArray(value.chats.list);
}

export function parseTelegram(value: Json, fileId: string, name: string, warnings: string[]): DataRecord[] {
  const records: DataRecord[] = [];
  const root = value as Record<string, Json>;
  const chats: Record<string, Json>[] = Array.isArray(root.messages)
    ? [root]
    : (root.chats as { list: Json[] }).list.filter((c): c is Record<string, Json> => isObject(c));
  for (const chat of chats) {
    const list = Array.isArray(chat.messages) ? chat.messages : [];
    const thread = field(chat.name) ?? name;
    function* messages(): Generator<ChatMessage> {
      for (const m of list) {
        if (!isObject(m) || (m.type !== undefined && m.type !== 'message')) continue;
        yield {
          author: field(m.from) ?? field(m.actor),
          time: parseTimestamp(m.date_unixtime) ?? parseTimestamp(m.date),
          text: telegramText(m.text),
        };
      }
    }
    finish(messages(), fileId, name, 'telegram', thread, records, warnings);
  }
  return records;
}

/** Slack's markup: `<https://x|label>` → label, `<@U123>` → @U123, `:smile:` dropped. */
function slackText(text: string): string {
  return text
    .replace(/<((?:https?|mailto):[^|>]{0,2000})\|([^>]{0,500})>/g, '$2')
    .replace(/<((?:https?|mailto):[^>]{0,2000})>/g, '$1')
    .replace(
      /<[@#!]([^|>]{1,100})(?:\|([^>]{0,200}))?>/g,
      (_m, id: string, label?: string) => `@${label ?? id}`,
    )
    .replace(/:[a-z0-9_+-]{1,40}:/g, '');
}

export function isSlackExport(value: Json): boolean {
  if (!Array.isArray(value)) return false;
  const first = value.find(isObject);
  return (
    first !== undefined &&
    typeof first.ts === 'string' &&
    'text' in first &&
    ('user' in first || 'type' in first)
  );
}

export function parseSlack(value: Json, fileId: string, name: string, warnings: string[]): DataRecord[] {
  const records: DataRecord[] = [];
  function* messages(): Generator<ChatMessage> {
    for (const m of value as Json[]) {
      if (!isObject(m) || typeof m.text !== 'string') continue;
      if (typeof m.subtype === 'string' && /join|leave|topic|purpose|bot_message/.test(m.subtype)) continue;
      const profile = isObject(m.user_profile) ? m.user_profile : {};
      yield {
        author:
          field(profile.real_name) ?? field(profile.display_name) ?? field(m.user_name) ?? field(m.user),
        time: parseTimestamp(m.ts),
        text: stripMarkup(slackText(m.text)),
      };
    }
  }
  finish(messages(), fileId, name, 'slack', name, records, warnings);
  return records;
}

export function isDiscordExport(value: Json): boolean {
  if (!isObject(value) || !Array.isArray(value.messages)) return false;
  const first = value.messages.find(isObject);
  return first !== undefined && 'content' in first && ('author' in first || 'timestamp' in first);
}

export function parseDiscord(value: Json, fileId: string, name: string, warnings: string[]): DataRecord[] {
  const root = value as Record<string, Json>;
  const channel = isObject(root.channel) ? field(root.channel.name) : null;
  const records: DataRecord[] = [];
  function* messages(): Generator<ChatMessage> {
    for (const m of root.messages as Json[]) {
      if (!isObject(m) || typeof m.content !== 'string') continue;
      const author = isObject(m.author)
        ? (field(m.author.nickname) ?? field(m.author.name))
        : field(m.author);
      yield { author, time: parseTimestamp(m.timestamp), text: stripMarkup(m.content) };
    }
  }
  finish(messages(), fileId, name, 'discord', channel ?? name, records, warnings);
  return records;
}
