/**
 * A fast tokenizer for indexing (wink reads ~1 MB/s; indexing must do several): lowercase words, English stop
 * words removed, a light suffix stemmer so "dinners", "dining" and "dined" meet.
 */

const STOP = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers herself him ' +
    'himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other ' +
    'our ours ourselves out over own same she should so some such than that the their theirs them themselves then there ' +
    'these they this those through to too under until up very was we were what when where which while who whom why will ' +
    'with would you your yours yourself yourselves also yet ever im ive id dont didnt doesnt isnt wasnt cant wont ' +
    'shall may might must s t re ve ll d m o y get got one us'
  ).split(' '),
);

/** Question words that say how to rank, not what to find. */
const QUERY_ONLY_STOP = new Set([
  'last',
  'latest',
  'first',
  'recently',
  'recent',
  'time',
  'tell',
  'know',
  'remember',
  'happen',
  'happened',
  'say',
  'said',
  'mention',
  'mentioned',
]);

export function isStopWord(word: string): boolean {
  return STOP.has(word);
}

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu;

/** Lowercase word tokens with possessives and apostrophes dropped ("Leah's" → "leah", "didn't" → "didnt"). */
export function words(text: string): string[] {
  const out: string[] = [];
  const lower = text.toLowerCase();
  WORD.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = WORD.exec(lower)) !== null) {
    let w = m[0];
    if (w.length > 40) w = w.slice(0, 40);
    // Only tokens with an apostrophe need more work (most have none).
    if (w.includes("'") || w.includes('’')) w = w.replace(/['’]s$/, '').replace(/['’]/g, '');
    out.push(w);
  }
  return out;
}

/** Index terms of already-split words. */
export function termsOfWords(ws: readonly string[]): string[] {
  const out: string[] = [];
  for (const w of ws) if (!STOP.has(w)) out.push(stem(w));
  return out;
}

/** Irregular past forms people write in journals, so "ran" meets "running" and "saw" meets "see". */
const IRREGULAR: Record<string, string> = {
  ran: 'run',
  swam: 'swim',
  saw: 'see',
  seen: 'see',
  met: 'meet',
  went: 'go',
  gone: 'go',
  ate: 'eat',
  eaten: 'eat',
  told: 'tell',
  made: 'make',
  took: 'take',
  taken: 'take',
  bought: 'buy',
  came: 'come',
  gave: 'give',
  given: 'give',
  got: 'get',
  felt: 'feel',
  thought: 'think',
  spoke: 'speak',
  wrote: 'write',
  written: 'write',
  left: 'leave',
  sent: 'send',
  flew: 'fly',
  flown: 'fly',
  drove: 'drive',
  driven: 'drive',
  slept: 'sleep',
  found: 'find',
  brought: 'bring',
  kept: 'keep',
  paid: 'pay',
  sold: 'sell',
  won: 'win',
  lost: 'lose',
  began: 'begin',
  sang: 'sing',
  drank: 'drink',
  heard: 'hear',
  knew: 'know',
  known: 'know',
  children: 'child',
  people: 'person',
  men: 'man',
  women: 'woman',
};

/** A light English stemmer (plural, -ing, -ed, -ly, -ies): deterministic and fast, not Porter's. */
export function stem(word: string): string {
  let w = IRREGULAR[word] ?? word;
  if (w.length <= 3 || /\d/.test(w)) return w;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) w = w.slice(0, -1);
  if (w.endsWith('ing') && w.length > 5) w = undouble(w.slice(0, -3));
  else if (w.endsWith('ed') && w.length > 4) w = undouble(w.slice(0, -2));
  if (w.endsWith('ly') && w.length > 5) w = w.slice(0, -2);
  // "promotion" meets "promoted", "celebration" "celebrated".
  if (w.endsWith('tion') && w.length > 6) w = w.slice(0, -3);
  if (w.endsWith('e') && w.length > 4) w = w.slice(0, -1);
  return w;
}

function undouble(w: string): string {
  return /([bdfgmnprt])\1$/.test(w) ? w.slice(0, -1) : w;
}

/** Index terms of a text: stems of its non-stop words. */
export function terms(text: string): string[] {
  return termsOfWords(words(text));
}

/** Query terms: like `terms`, without the words that only steer ranking ("last", "first", "time"). */
export function queryTerms(text: string): string[] {
  const out: string[] = [];
  for (const w of words(text)) if (!STOP.has(w) && !QUERY_ONLY_STOP.has(w)) out.push(stem(w));
  return out;
}

export function queryWords(text: string): string[] {
  return words(text).filter((w) => !STOP.has(w) && !QUERY_ONLY_STOP.has(w));
}
