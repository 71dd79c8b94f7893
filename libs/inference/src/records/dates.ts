/** Dates as people write them in journals and chat exports, read without a locale library. */

const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  sept: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

function monthOf(word: string): number | undefined {
  const w = word.toLowerCase();
  return MONTHS[w.slice(0, 4) === 'sept' ? 'sept' : w.slice(0, 3)];
}

function iso(y: number, m: number, d: number, hh = 0, mm = 0, ss = 0): string | null {
  if (y < 100) y += 2000;
  if (m < 1 || m > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 59) return null;
  const t = Date.UTC(y, m - 1, d, hh, mm, ss);
  const date = new Date(t);
  // Rejects 31 February and the like instead of rolling over.
  if (date.getUTCDate() !== d) return null;
  return date.toISOString();
}

const MONTH_NAME =
  '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
const ISO_DATE = /\b(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?/;
const DAY_MONTH_YEAR = new RegExp(
  `\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?${MONTH_NAME}\\.?,?\\s+(\\d{4})\\b`,
  'i',
);
const MONTH_DAY_YEAR = new RegExp(`\\b${MONTH_NAME}\\.?\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})\\b`, 'i');
const NUMERIC_DATE = /\b(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})\b/;

/**
 * The first date in a short string (a heading, a chat line's prefix): ISO `2024-03-14`, `14 March 2024`,
 * `March 14, 2024`, `14/03/2024` (day first unless that cannot be). Null when there is none.
 */
export function findDate(text: string, dayFirst = true): string | null {
  const s = text.slice(0, 200);
  let m = ISO_DATE.exec(s);
  if (m) return iso(+m[1], +m[2], +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  m = DAY_MONTH_YEAR.exec(s);
  if (m) return iso(+m[3], monthOf(m[2]) ?? 0, +m[1]);
  m = MONTH_DAY_YEAR.exec(s);
  if (m) return iso(+m[3], monthOf(m[1]) ?? 0, +m[2]);
  m = NUMERIC_DATE.exec(s);
  if (m) return numericDate(+m[1], +m[2], +m[3], dayFirst);
  return null;
}

export function numericDate(
  a: number,
  b: number,
  y: number,
  dayFirst: boolean,
  hh = 0,
  mm = 0,
  ss = 0,
): string | null {
  const [d, mo] = dayFirst ? (b > 12 && a <= 12 ? [b, a] : [a, b]) : a > 12 && b <= 12 ? [a, b] : [b, a];
  return iso(y, mo, d, hh, mm, ss);
}

/** A time of day as `18:03`, `18:03:21` or `6:03 PM`, as [hours, minutes, seconds]. */
export function parseClock(text: string): [number, number, number] | null {
  const m = /(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?m\.?)?/i.exec(text);
  if (!m) return null;
  let h = +m[1];
  const pm = m[4]?.toLowerCase().startsWith('p');
  if (m[4]) {
    if (h === 12) h = 0;
    if (pm) h += 12;
  }
  return [h, +m[2], +(m[3] ?? 0)];
}

/** Any timestamp a JSON export might carry: ISO strings, Unix seconds or milliseconds (number or string). */
export function parseTimestamp(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) {
    const ms = value > 1e11 ? value : value * 1000;
    if (ms < 0 || ms > 4102444800000) return null;
    return new Date(ms).toISOString();
  }
  if (typeof value !== 'string' || value.length > 64) return null;
  if (/^\d{9,13}(\.\d+)?$/.test(value)) return parseTimestamp(Number(value));
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    // A zone-less ISO time is taken as UTC, as exports write local times without one.
    const withZone = /[zZ]|[+-]\d{2}:?\d{2}$/.test(value) || value.length <= 10 ? value : `${value}Z`;
    const t = Date.parse(withZone);
    return Number.isNaN(t) ? findDate(value) : new Date(t).toISOString();
  }
  const t = Date.parse(value);
  if (!Number.isNaN(t) && /\d{4}/.test(value)) return new Date(t).toISOString();
  return findDate(value);
}

/** `2024-03-14` of an ISO time. */
export function dayOf(time: string | null): string | null {
  return time ? time.slice(0, 10) : null;
}
