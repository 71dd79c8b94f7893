import { z } from 'zod';
import { defineOperation, KiB, MiB, type OperationImpl } from '../operation';
import type { DataRecord, RecordSource } from '../records/types';
import { fileIndexesOf } from '../records/load';
import { dayOf } from '../records/dates';
import { Retriever, type RetrievalHit } from '../retrieval/retriever';
import { queryTerms, stem, words } from '../retrieval/tokenize';
import { throwIfAborted } from '../text';
import { BUILTIN_ENGINE_VERSION, BUILTIN_MODEL } from './engine';
import { countWords, getNlp, isContentTerm, readSentences, type SentenceInfo } from './nlp';
import { entityMentions, isKeyword } from './operations';

const recordLimits = { maxInputBytes: 16 * MiB, maxOutputBytes: 1 * MiB, maxDocuments: 1000 };

const recordsIdentity = {
  engine: 'builtin' as const,
  aggregate: false,
  lenientText: true,
  records: true,
  available: () => true,
  model: () => BUILTIN_MODEL,
  engineVersion: () => BUILTIN_ENGINE_VERSION,
};

/** Where a quote came from, without the file's whole metadata. */
interface QuoteSource {
  fileId: string;
  name: string;
  format: string;
  thread?: string;
}

function sourceOf(s: RecordSource): QuoteSource {
  return s.thread === undefined
    ? { fileId: s.fileId, name: s.name, format: s.format }
    : { fileId: s.fileId, name: s.name, format: s.format, thread: s.thread };
}

/** Per-file parse warnings, so a caller knows a file was read as plain text and why. */
function warningsOf(
  indexes: { fileId: string; warnings: string[] }[],
): { fileId: string; warning: string }[] {
  return indexes.flatMap((i) => i.warnings.map((warning) => ({ fileId: i.fileId, warning })));
}

const SENTENCE_END = /(?<=[.!?…])\s+(?=\S)|\n+/;

function sentencesOf(text: string): string[] {
  return text
    .split(SENTENCE_END)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Cuts at a word boundary to at most `max` characters, marking the cut. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.lastIndexOf(' ', max - 1);
  return `${text.slice(0, cut > max / 2 ? cut : max - 1).trimEnd()}…`;
}

/**
 * The part of a record that best matches the question, at most `max` characters: the sentence with the most
 * query terms, widened with its neighbours while it fits.
 */
export function bestWindow(text: string, query: ReadonlySet<string>, max: number): string {
  const sentences = sentencesOf(text);
  if (sentences.length === 0) return '';
  let best = 0;
  let bestScore = -1;
  sentences.forEach((s, i) => {
    let score = 0;
    for (const w of words(s)) if (query.has(stem(w))) score++;
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  });
  let from = best;
  let to = best;
  let length = sentences[best].length;
  for (;;) {
    const next = to + 1 < sentences.length ? sentences[to + 1].length + 1 : Infinity;
    const prev = from > 0 ? sentences[from - 1].length + 1 : Infinity;
    if (Math.min(next, prev) + length > max) break;
    if (next <= prev) {
      to++;
      length += next;
    } else {
      from--;
      length += prev;
    }
  }
  return clip(sentences.slice(from, to + 1).join(' '), max);
}

// ---------------------------------------------------------------- ask

const MAX_QUOTES = 10;
const MAX_QUOTE_CHARS = 300;

const askParams = z
  .object({
    question: z.string().trim().min(1).max(1000).describe('a question in English'),
    quotes: z
      .number()
      .int()
      .min(1)
      .max(MAX_QUOTES)
      .default(3)
      .describe('passages to return: the answer and supporting quotes'),
    quoteChars: z
      .number()
      .int()
      .min(40)
      .max(MAX_QUOTE_CHARS)
      .default(MAX_QUOTE_CHARS)
      .describe('characters per passage'),
    retrieval: z
      .enum(['hybrid', 'bm25'])
      .default('hybrid')
      .describe('ranking: BM25 with word vectors, or BM25 alone'),
  })
  .strict();

interface Quote {
  recordId: string;
  kind: string;
  time: string | null;
  author: string | null;
  subject: string | null;
  source: QuoteSource;
  text: string;
  score: number;
}

interface AskOutput {
  question: string;
  answer: Quote | null;
  quotes: Quote[];
  retrieval: 'hybrid' | 'bm25';
  /** Names the question's relation words were read as ("sister" → Leah), learned from the data. */
  readAs: string[];
  warnings: { fileId: string; warning: string }[];
}

function quoteOf(hit: RetrievalHit, query: ReadonlySet<string>, max: number): Quote {
  const r = hit.record;
  return {
    recordId: r.id,
    kind: r.kind,
    time: r.time,
    author: r.author,
    subject: r.subject === null ? null : clip(r.subject, 120),
    source: sourceOf(r.source),
    text: bestWindow(r.text, query, max),
    score: Math.round(hit.score * 10_000) / 10_000,
  };
}

const quoteChars = (q: Quote): number => q.text.length + (q.subject?.length ?? 0) + (q.author?.length ?? 0);

export const askRecords = defineOperation({
  ...recordsIdentity,
  name: 'ask',
  version: '2.0.0',
  description:
    'Answers a question from the records of the data (emails, messages, journal entries): the best-matching record with its date, author and source, and supporting quotes. Hybrid ranking (BM25 plus GloVe word vectors), aliases learned from the data ("my sister Leah"), and "when did I last …" answered by the latest matching record.',
  discloses: `quotes up to \`quotes\` (default 3, at most ${MAX_QUOTES}) passages of ≤ \`quoteChars\` (at most ${MAX_QUOTE_CHARS}) characters, each with its record's date, author, subject (≤ 120 characters) and file; and the names learned from the data that the question was read as`,
  params: askParams,
  limits: { ...recordLimits, maxOutputBytes: 256 * KiB },
  quotedChars(output) {
    const o = output as AskOutput;
    return (
      (o.answer ? quoteChars(o.answer) : 0) +
      o.quotes.reduce((n, q) => n + quoteChars(q), 0) +
      o.readAs.reduce((n, s) => n + s.length, 0)
    );
  },
  async run(params, docs, ctx) {
    const indexes = await fileIndexesOf(docs, ctx.indexes, ctx.signal);
    throwIfAborted(ctx.signal);
    const retriever = new Retriever(indexes);
    const hits = retriever.search(params.question, { mode: params.retrieval, limit: params.quotes });
    const expanded = retriever.expand(params.question);
    const query = new Set([...queryTerms(params.question), ...expanded.terms]);
    const [first, ...rest] = hits.map((h) => quoteOf(h, query, params.quoteChars));
    const out: AskOutput = {
      question: params.question,
      answer: first ?? null,
      quotes: rest,
      retrieval: params.retrieval === 'hybrid' && retriever.dense ? 'hybrid' : 'bm25',
      readAs: [...new Set(expanded.names)],
      warnings: warningsOf(indexes),
    };
    return out;
  },
} satisfies OperationImpl<z.infer<typeof askParams>>);

// ---------------------------------------------------------------- summarize

const summarizeParams = z
  .object({
    sentences: z.number().int().min(1).max(20).default(3).describe('sentences per group'),
    by: z
      .enum(['source', 'thread', 'day', 'all'])
      .default('source')
      .describe('one summary per file, per email thread or chat, per day, or one for all'),
    groups: z
      .number()
      .int()
      .min(1)
      .max(50)
      .default(10)
      .describe('groups to summarise (the largest, then the latest)'),
  })
  .strict();

interface SummaryGroup {
  key: string;
  from: string | null;
  to: string | null;
  records: number;
  summary: string;
  sentences: { recordId: string; time: string | null; author: string | null; text: string }[];
}

function groupKey(r: DataRecord, by: z.infer<typeof summarizeParams>['by']): string {
  switch (by) {
    case 'all':
      return 'all';
    case 'day':
      return dayOf(r.time) ?? 'undated';
    case 'thread':
      return r.subject && r.kind === 'email'
        ? `${r.source.fileId}:${r.source.thread ?? ''}`
        : `${r.source.fileId}:${r.source.thread ?? r.source.name}`;
    case 'source':
      return r.source.fileId;
  }
}

function groupLabel(records: DataRecord[], by: string): string {
  const r = records[0];
  if (by === 'day') return dayOf(r.time) ?? 'undated';
  if (by === 'all') return 'all';
  if (by === 'thread') return r.subject ?? r.source.thread ?? r.source.name;
  return r.source.name;
}

/** A sentence worth quoting in a summary: a clause with a verb and a few words, not a greeting or sign-off. */
function isProse(s: SentenceInfo): boolean {
  return countWords([s]) >= 4 && s.tokens.some((t) => t.pos === 'VERB' || t.pos === 'AUX');
}

const MAX_SUMMARY_SENTENCE = 300;

/** Chars of record text analysed per group: enough for a summary, bounded for a 10^6-message chat. */
const MAX_GROUP_CHARS = 512 * 1024;

async function summariseGroup(
  records: DataRecord[],
  n: number,
  signal?: AbortSignal,
): Promise<SummaryGroup['sentences']> {
  const nlp = await getNlp();
  const freq = new Map<string, number>();
  const candidates: { record: DataRecord; order: number; text: string; terms: Set<string> }[] = [];
  let budget = MAX_GROUP_CHARS;
  for (const record of records) {
    if (budget <= 0) break;
    throwIfAborted(signal);
    const text = record.text.slice(0, budget);
    budget -= text.length;
    for (const s of readSentences(nlp, text)) {
      const lemmas = s.tokens.filter(isContentTerm).map((t) => t.lemma);
      for (const l of lemmas) freq.set(l, (freq.get(l) ?? 0) + 1);
      if (isProse(s))
        candidates.push({
          record,
          order: candidates.length,
          text: clip(s.text.trim(), MAX_SUMMARY_SENTENCE),
          terms: new Set(lemmas),
        });
    }
  }
  let maxFreq = 1;
  for (const v of freq.values()) maxFreq = Math.max(maxFreq, v);
  const scored = candidates
    .map((c) => {
      let sum = 0;
      for (const t of c.terms) sum += (freq.get(t) ?? 0) / maxFreq;
      return { ...c, score: c.terms.size === 0 ? 0 : sum / Math.sqrt(c.terms.size) };
    })
    .sort((a, b) => b.score - a.score || a.order - b.order);
  const chosen: typeof scored = [];
  // One sentence per record first, so a summary covers several events rather than one long entry.
  const usedRecords = new Set<string>();
  for (const pass of [0, 1]) {
    for (const c of scored) {
      if (chosen.length >= n) break;
      if (chosen.includes(c)) continue;
      if (pass === 0 && usedRecords.has(c.record.id)) continue;
      if (chosen.some((x) => overlap(x.terms, c.terms) > 0.6)) continue;
      chosen.push(c);
      usedRecords.add(c.record.id);
    }
  }
  chosen.sort((a, b) => a.order - b.order);
  return chosen.map((c) => ({
    recordId: c.record.id,
    time: c.record.time,
    author: c.record.author,
    text: c.text,
  }));
}

function overlap(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  const union = a.size + b.size - inter;
  return union === 0 ? 0 : inter / union;
}

interface SummarizeOutput {
  summary: string;
  by: string;
  groups: SummaryGroup[];
  warnings: { fileId: string; warning: string }[];
}

export const summarizeRecords = defineOperation({
  ...recordsIdentity,
  name: 'summarize',
  version: '2.0.0',
  description:
    'Extractive summary of the records (emails without headers or quoted replies, chat messages, journal entries; no markup), per file, thread, day or all together: the sentences that best cover the most frequent content words, one per record first, in reading order.',
  discloses:
    "quotes up to `sentences` (at most 20) sentences of ≤ 300 characters per group for up to `groups` (at most 50) groups, each with its record's date and author; and each group's label (file name, thread subject or day)",
  params: summarizeParams,
  limits: recordLimits,
  quotedChars(output) {
    const o = output as SummarizeOutput;
    return o.groups.reduce(
      (n, g) =>
        n + g.key.length + g.sentences.reduce((m, s) => m + s.text.length + (s.author?.length ?? 0), 0),
      0,
    );
  },
  async run(params, docs, ctx) {
    const indexes = await fileIndexesOf(docs, ctx.indexes, ctx.signal);
    const groups = new Map<string, DataRecord[]>();
    for (const index of indexes) {
      for (const r of index.records) {
        const key = groupKey(r, params.by);
        let list = groups.get(key);
        if (!list) groups.set(key, (list = []));
        list.push(r);
      }
    }
    const latest = (rs: DataRecord[]) => rs.reduce((t, r) => (r.time && r.time > t ? r.time : t), '');
    const picked = [...groups.values()]
      .sort((a, b) => b.length - a.length || (latest(a) < latest(b) ? 1 : -1))
      .slice(0, params.groups);
    // Reading order: by first date, undated last.
    picked.sort((a, b) => ((a[0].time ?? '\uffff') < (b[0].time ?? '\uffff') ? -1 : 1));
    const out: SummaryGroup[] = [];
    for (const records of picked) {
      const sorted = [...records].sort((a, b) =>
        (a.time ?? '') < (b.time ?? '') ? -1 : (a.time ?? '') > (b.time ?? '') ? 1 : 0,
      );
      const sentences = await summariseGroup(sorted, params.sentences, ctx.signal);
      const times = sorted.map((r) => r.time).filter((t): t is string => t !== null);
      out.push({
        key: groupLabel(sorted, params.by),
        from: times[0] ?? null,
        to: times[times.length - 1] ?? null,
        records: records.length,
        summary: sentences.map((s) => s.text).join(' '),
        sentences,
      });
    }
    const result: SummarizeOutput = {
      summary: out.map((g) => g.summary).join(' '),
      by: params.by,
      groups: out,
      warnings: warningsOf(indexes),
    };
    return result;
  },
} satisfies OperationImpl<z.infer<typeof summarizeParams>>);

// ---------------------------------------------------------------- timeline

const TIMELINE_TEXT_CHARS = 200;

const timelineParams = z
  .object({
    about: z.string().trim().min(1).max(200).optional().describe('only what concerns this person or topic'),
    limit: z.number().int().min(1).max(200).default(50).describe('events to return'),
  })
  .strict();

interface TimelineEvent {
  time: string;
  recordId: string;
  kind: string;
  author: string | null;
  subject: string | null;
  source: QuoteSource;
  text: string;
}

interface TimelineOutput {
  about: string | null;
  events: TimelineEvent[];
  /** Dated records matching, of which `events` are the first `limit` in time order… */
  matched: number;
  undated: number;
  warnings: { fileId: string; warning: string }[];
}

/** Fused score below this share of the best hit does not count as being "about" the topic. */
const ABOUT_SHARE = 0.35;

export const timeline = defineOperation({
  ...recordsIdentity,
  name: 'timeline',
  version: '1.0.0',
  description:
    'What happened when: dated records in time order, each as one short passage, optionally only those about a person or topic (found by the same hybrid retrieval as ask, aliases included).',
  discloses: `quotes up to \`limit\` (at most 200) passages of ≤ ${TIMELINE_TEXT_CHARS} characters, each with its record's date, author, subject (≤ 120 characters) and file`,
  params: timelineParams,
  limits: recordLimits,
  quotedChars(output) {
    const o = output as TimelineOutput;
    return o.events.reduce(
      (n, e) => n + e.text.length + (e.subject?.length ?? 0) + (e.author?.length ?? 0),
      0,
    );
  },
  async run(params, docs, ctx) {
    const indexes = await fileIndexesOf(docs, ctx.indexes, ctx.signal);
    let records: DataRecord[];
    let query = new Set<string>();
    if (params.about) {
      const retriever = new Retriever(indexes);
      const hits = retriever.search(params.about, { limit: 5000 });
      const best = hits[0]?.score ?? 0;
      // Only records that share a word with the topic (or its aliases): vectors alone are too loose for "about".
      records = hits.filter((h) => h.score >= best * ABOUT_SHARE && h.bm25 > 0).map((h) => h.record);
      query = new Set(retriever.expand(params.about).terms);
    } else {
      records = indexes.flatMap((i) => i.records);
    }
    const dated = records
      .filter((r) => r.time !== null)
      .sort((a, b) => (a.time! < b.time! ? -1 : a.time! > b.time! ? 1 : 0));
    const events: TimelineEvent[] = dated.slice(0, params.limit).map((r) => ({
      time: r.time!,
      recordId: r.id,
      kind: r.kind,
      author: r.author,
      subject: r.subject === null ? null : clip(r.subject, 120),
      source: sourceOf(r.source),
      text:
        query.size > 0
          ? bestWindow(r.text, query, TIMELINE_TEXT_CHARS)
          : clip(sentencesOf(r.text)[0] ?? '', TIMELINE_TEXT_CHARS),
    }));
    const out: TimelineOutput = {
      about: params.about ?? null,
      events,
      matched: dated.length,
      undated: records.length - dated.length,
      warnings: warningsOf(indexes),
    };
    return out;
  },
} satisfies OperationImpl<z.infer<typeof timelineParams>>);

// ---------------------------------------------------------------- entities

const ORG_WORDS = new Set(
  'inc ltd llc plc corp corporation company co bank dental medical health insurance lettings bakery practice university college school hospital clinic council ministry agency institute foundation society club group gmbh ag bv studio studios labs lab partners association trust committee department office airlines airways museum library church surgery pharmacy'.split(
    ' ',
  ),
);
const PLACE_WORDS = new Set(
  'street st road rd avenue ave lane square park city town village lake river mountain mount hill beach bay island station airport cafe café restaurant bar pub market bridge valley forest county province coast harbour harbor hotel centre center gardens heath common'.split(
    ' ',
  ),
);
const PLACE_PREPOSITIONS = new Set([
  'in',
  'at',
  'to',
  'from',
  'near',
  'around',
  'through',
  'visiting',
  'visited',
  'across',
]);
const PERSON_CUES = new Set([
  'with',
  'and',
  'told',
  'met',
  'called',
  'asked',
  'texted',
  'saw',
  'dear',
  'hi',
  'hey',
  'thanks',
  'love',
  'mr',
  'mrs',
  'ms',
  'dr',
]);

type EntityGroup = 'people' | 'places' | 'organisations';

/** What a name's own words say it is: an organisation (Ltd, Bank, Dental, an acronym) or a place (Street, Park). */
function namedGroup(name: string): EntityGroup | null {
  const parts = name.toLowerCase().split(/\s+/);
  if (parts.some((p) => ORG_WORDS.has(p)) || /^[A-Z]{2,5}$/.test(name)) return 'organisations';
  if (PLACE_WORDS.has(parts[parts.length - 1] ?? '')) return 'places';
  return null;
}

const entitiesParams = z
  .object({
    top: z.number().int().min(1).max(200).default(20).describe('entities per group'),
  })
  .strict();

interface EntityCount {
  name: string;
  count: number;
  records: number;
}

interface EntitiesOutput {
  people: EntityCount[];
  places: EntityCount[];
  organisations: EntityCount[];
  warnings: { fileId: string; warning: string }[];
}

/**
 * People, places and organisations with counts. Names are wink's proper-noun runs plus the records' authors
 * and participants; each name is grouped by what its mentions suggest: an organisation word (Ltd, Bank,
 * University) or an email domain, a place word (Street, Park, Café) or a place preposition before it ("in
 * Lisbon"), else a person when it is someone the data knows (an author, a learned alias) or a person cue
 * ("with Sam", "Dear Ana"). Names no cue places are left out rather than guessed.
 */
export const entitiesRecords = defineOperation({
  ...recordsIdentity,
  name: 'entities',
  version: '2.0.0',
  description:
    'People, places and organisations named in the records, each with its number of mentions and of records mentioning it; authors and participants count as people.',
  discloses: 'up to `top` (at most 200) names per group with counts; no passages',
  params: entitiesParams,
  limits: recordLimits,
  quotedChars(output) {
    const o = output as EntitiesOutput;
    return [...o.people, ...o.places, ...o.organisations].reduce((n, e) => n + e.name.length, 0);
  },
  async run(params, docs, ctx) {
    const nlp = await getNlp();
    const indexes = await fileIndexesOf(docs, ctx.indexes, ctx.signal);
    const retriever = new Retriever(indexes);
    const known = new Set<string>();
    for (const r of retriever.records) {
      if (r.author) known.add(r.author.toLowerCase());
      for (const p of r.participants) known.add(p.toLowerCase());
    }
    for (const [, names] of retriever.aliases.toJSON())
      for (const [name] of names) known.add(name.toLowerCase());
    const votes = new Map<
      string,
      { name: string; group: Record<EntityGroup, number>; count: number; records: Set<string> }
    >();
    const vote = (name: string, record: string, group: EntityGroup | null) => {
      const key = name.toLowerCase();
      let v = votes.get(key);
      if (!v)
        votes.set(
          key,
          (v = { name, group: { people: 0, places: 0, organisations: 0 }, count: 0, records: new Set() }),
        );
      v.count++;
      v.records.add(record);
      if (group) v.group[group]++;
    };
    let budget = 4 * 1024 * 1024;
    for (const r of retriever.records) {
      throwIfAborted(ctx.signal);
      // An author is a person unless the name says otherwise ("Riverside Dental", "Hughes & Co Lettings").
      if (r.author) vote(r.author, r.id, namedGroup(r.author) ?? 'people');
      if (budget <= 0) continue;
      const text = r.text.slice(0, budget);
      budget -= text.length;
      for (const m of entityMentions(nlp, text)) {
        if (m.type !== 'NAME') continue;
        const name = m.value.replace(/['’]s$/, '');
        const parts = name.split(/\s+/);
        const before =
          new RegExp(`(\\S+)\\s+${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'i')
            .exec(text)?.[1]
            ?.toLowerCase() ?? '';
        // The name's own words first, then who the data knows, then the word before it.
        const group: EntityGroup | null =
          namedGroup(name) ??
          (known.has(name.toLowerCase()) || known.has(parts[0].toLowerCase())
            ? 'people'
            : PLACE_PREPOSITIONS.has(before)
              ? 'places'
              : PERSON_CUES.has(before) || /^\p{Lu}\p{Ll}+\s+\p{Lu}\p{Ll}+$/u.test(name)
                ? 'people'
                : null);
        vote(name, r.id, group);
      }
    }
    const groups: Record<EntityGroup, EntityCount[]> = { people: [], places: [], organisations: [] };
    for (const v of votes.values()) {
      const entries = Object.entries(v.group) as [EntityGroup, number][];
      entries.sort((a, b) => b[1] - a[1]);
      const [group, n] = entries[0];
      if (n === 0) continue;
      groups[group].push({ name: v.name, count: v.count, records: v.records.size });
    }
    const order = (a: EntityCount, b: EntityCount) =>
      b.count - a.count || b.records - a.records || (a.name < b.name ? -1 : 1);
    const out: EntitiesOutput = {
      people: groups.people.sort(order).slice(0, params.top),
      places: groups.places.sort(order).slice(0, params.top),
      organisations: groups.organisations.sort(order).slice(0, params.top),
      warnings: warningsOf(indexes),
    };
    return out;
  },
} satisfies OperationImpl<z.infer<typeof entitiesParams>>);

// ---------------------------------------------------------------- keywords

const keywordsParams = z
  .object({ top: z.number().int().min(1).max(100).default(10).describe('number of terms to return') })
  .strict();

interface KeywordsOutput {
  keywords: { term: string; count: number; records: number }[];
  warnings: { fileId: string; warning: string }[];
}

export const keywordsRecords = defineOperation({
  ...recordsIdentity,
  name: 'keywords',
  version: '2.0.0',
  description:
    "Top N terms of the records' own words (lemmatised nouns, proper nouns and adjectives; stop words, markup, headers, field names, ids and timestamps left out) by occurrences, with the number of records using each.",
  discloses: 'up to `top` (at most 100) single words with counts; no passages',
  params: keywordsParams,
  limits: recordLimits,
  quotedChars(output) {
    return (output as KeywordsOutput).keywords.reduce((n, k) => n + k.term.length, 0);
  },
  async run(params, docs, ctx) {
    const nlp = await getNlp();
    const indexes = await fileIndexesOf(docs, ctx.indexes, ctx.signal);
    const stats = new Map<string, { count: number; records: number }>();
    let budget = 8 * 1024 * 1024;
    for (const index of indexes) {
      for (const r of index.records) {
        if (budget <= 0) break;
        throwIfAborted(ctx.signal);
        const text = [r.subject ?? '', r.text].join('\n').slice(0, budget);
        budget -= text.length;
        const seen = new Set<string>();
        for (const s of readSentences(nlp, text)) {
          for (const t of s.tokens) {
            // Letters only: "t20", "2024", hashes and ids are not what a person writes about.
            if (!isKeyword(t) || !/^\p{L}[\p{L}'-]*$/u.test(t.lemma)) continue;
            const e = stats.get(t.lemma) ?? { count: 0, records: 0 };
            e.count++;
            if (!seen.has(t.lemma)) {
              seen.add(t.lemma);
              e.records++;
            }
            stats.set(t.lemma, e);
          }
        }
      }
    }
    const out: KeywordsOutput = {
      keywords: [...stats]
        .map(([term, e]) => ({ term, count: e.count, records: e.records }))
        .sort((a, b) => b.count - a.count || b.records - a.records || (a.term < b.term ? -1 : 1))
        .slice(0, params.top),
      warnings: warningsOf(indexes),
    };
    return out;
  },
} satisfies OperationImpl<z.infer<typeof keywordsParams>>);

export const recordOperations: OperationImpl[] = [
  summarizeRecords,
  askRecords,
  timeline,
  entitiesRecords,
  keywordsRecords,
];
