import type { ItemEntity, ItemSentence, WinkMethods } from 'wink-nlp';
import { z } from 'zod';
import { defineOperation, KiB, MiB, type OperationImpl } from '../operation';
import { splitBlocks, throwIfAborted, type TextDocument } from '../text';
import { Bm25Index } from './bm25';
import { BUILTIN_ENGINE_VERSION, BUILTIN_MODEL } from './engine';
import {
  countWords,
  getNlp,
  lemmaOf,
  isContentTerm,
  isContentWord,
  readSentences,
  type SentenceInfo,
  type TokenInfo,
} from './nlp';

const BLOCK_CHARS = 64 * 1024;
/** Words per minute of adult silent reading of English prose (Brysbaert, 2019). */
const READING_WPM = 238;
/** Sentiment scores within ±this are neutral. */
const NEUTRAL_BAND = 0.05;

const perPersonLimits = { maxInputBytes: 16 * MiB, maxOutputBytes: 1 * MiB, maxDocuments: 1000 };

const builtinIdentity = {
  engine: 'builtin' as const,
  available: () => true,
  model: () => BUILTIN_MODEL,
  engineVersion: () => BUILTIN_ENGINE_VERSION,
};

export interface AnalysedDocument {
  doc: TextDocument;
  sentences: SentenceInfo[];
}

/** Sentences and token features of every document, reading in bounded blocks. */
export async function analyse(
  docs: readonly TextDocument[],
  signal?: AbortSignal,
): Promise<AnalysedDocument[]> {
  const nlp = await getNlp();
  const out: AnalysedDocument[] = [];
  for (const doc of docs) {
    const sentences: SentenceInfo[] = [];
    for (const block of splitBlocks(doc.text, BLOCK_CHARS)) {
      throwIfAborted(signal);
      for (const s of readSentences(nlp, block)) if (s.tokens.length > 0) sentences.push(s);
    }
    out.push({ doc, sentences });
  }
  return out;
}

export function sentimentLabel(score: number): 'positive' | 'neutral' | 'negative' {
  if (score >= NEUTRAL_BAND) return 'positive';
  if (score <= -NEUTRAL_BAND) return 'negative';
  return 'neutral';
}

/** Mean sentence sentiment (wink's document score), 0 for an empty document. */
export function documentSentiment(sentences: readonly SentenceInfo[]): number {
  if (sentences.length === 0) return 0;
  let sum = 0;
  for (const s of sentences) sum += s.sentiment;
  return sum / sentences.length;
}

const round = (x: number, digits = 4): number => Number(x.toFixed(digits));

// ---------------------------------------------------------------- summarize

const summarizeParams = z
  .object({
    sentences: z.number().int().min(1).max(20).default(3).describe('number of sentences to extract'),
  })
  .strict();

function contentLemmas(tokens: readonly TokenInfo[]): string[] {
  const out: string[] = [];
  for (const t of tokens) if (isContentTerm(t)) out.push(t.lemma);
  return out;
}

const EMAIL_HEADER = /^(from|to|cc|bcc|subject|date|sent|reply-to):/im;

/** Sentences a summary may quote: not headings, greetings, sign-offs or email headers (no verb, or header lines). */
function isProse(s: SentenceInfo): boolean {
  return (
    countWords([s]) >= 4 &&
    s.tokens.some((t) => t.pos === 'VERB' || t.pos === 'AUX') &&
    !EMAIL_HEADER.test(s.text)
  );
}

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  const union = a.size + b.size - inter;
  return union === 0 ? 0 : inter / union;
}

const summarize = defineOperation({
  ...builtinIdentity,
  name: 'summarize',
  version: '1.0.0',
  description:
    'Extractive summary: the N sentences that best cover the most frequent content words, in reading order.',
  aggregate: false,
  params: summarizeParams,
  limits: perPersonLimits,
  async run(params, docs, ctx) {
    const analysed = await analyse(docs, ctx.signal);
    const freq = new Map<string, number>();
    const candidates: { fileId: string; doc: number; index: number; text: string; terms: Set<string> }[] = [];
    analysed.forEach(({ doc, sentences }, d) => {
      sentences.forEach((s, index) => {
        const lemmas = contentLemmas(s.tokens);
        for (const l of lemmas) freq.set(l, (freq.get(l) ?? 0) + 1);
        // Fragments without a verb (headings, email headers, greetings, sign-offs) are poor summary sentences.
        if (isProse(s))
          candidates.push({ fileId: doc.fileId, doc: d, index, text: s.text.trim(), terms: new Set(lemmas) });
      });
    });
    let maxFreq = 1;
    for (const n of freq.values()) maxFreq = Math.max(maxFreq, n);
    const scored = candidates
      .map((c, order) => {
        let sum = 0;
        for (const t of c.terms) sum += (freq.get(t) ?? 0) / maxFreq;
        return { ...c, order, score: c.terms.size === 0 ? 0 : sum / Math.sqrt(c.terms.size) };
      })
      .sort((a, b) => b.score - a.score || a.order - b.order);
    const chosen: typeof scored = [];
    for (const c of scored) {
      if (chosen.length >= params.sentences) break;
      // Skip near-repeats of a sentence already chosen.
      if (chosen.some((x) => jaccard(x.terms, c.terms) > 0.6)) continue;
      chosen.push(c);
    }
    chosen.sort((a, b) => a.order - b.order);
    return {
      summary: chosen.map((c) => c.text).join(' '),
      sentences: chosen.map((c) => ({
        fileId: c.fileId,
        index: c.index,
        text: c.text,
        score: round(c.score),
      })),
    };
  },
} satisfies OperationImpl<z.infer<typeof summarizeParams>>);

// ---------------------------------------------------------------- sentiment

const sentimentParams = z.object({}).strict();

const sentiment = defineOperation({
  ...builtinIdentity,
  name: 'sentiment',
  version: '1.0.0',
  description:
    'Sentiment score in [-1, 1] and label (positive/neutral/negative) overall and per document, from sentence-level lexicon scores with negation handling.',
  aggregate: false,
  params: sentimentParams,
  limits: perPersonLimits,
  async run(_params, docs, ctx) {
    const analysed = await analyse(docs, ctx.signal);
    let sum = 0;
    let count = 0;
    const documents = analysed.map(({ doc, sentences }) => {
      const score = documentSentiment(sentences);
      for (const s of sentences) sum += s.sentiment;
      count += sentences.length;
      return {
        fileId: doc.fileId,
        name: doc.name,
        score: round(score),
        label: sentimentLabel(score),
        sentences: sentences.length,
        positiveSentences: sentences.filter((s) => sentimentLabel(s.sentiment) === 'positive').length,
        negativeSentences: sentences.filter((s) => sentimentLabel(s.sentiment) === 'negative').length,
      };
    });
    const overall = count === 0 ? 0 : sum / count;
    return { overall: { score: round(overall), label: sentimentLabel(overall) }, documents };
  },
} satisfies OperationImpl<z.infer<typeof sentimentParams>>);

// ---------------------------------------------------------------- keywords

const KEYWORD_POS = new Set(['NOUN', 'PROPN', 'ADJ']);

export function isKeyword(t: TokenInfo): boolean {
  return isContentWord(t) && KEYWORD_POS.has(t.pos);
}

const keywordsParams = z
  .object({ top: z.number().int().min(1).max(100).default(10).describe('number of terms to return') })
  .strict();

const keywords = defineOperation({
  ...builtinIdentity,
  name: 'keywords',
  version: '1.0.0',
  description:
    'Top N terms (lemmatised nouns, proper nouns and adjectives, stop words removed) by occurrences, with the number of documents using each.',
  aggregate: false,
  params: keywordsParams,
  limits: perPersonLimits,
  async run(params, docs, ctx) {
    const analysed = await analyse(docs, ctx.signal);
    const stats = new Map<string, { count: number; documents: number }>();
    for (const { sentences } of analysed) {
      const seen = new Set<string>();
      for (const s of sentences) {
        for (const t of s.tokens) {
          if (!isKeyword(t)) continue;
          const e = stats.get(t.lemma) ?? { count: 0, documents: 0 };
          e.count++;
          if (!seen.has(t.lemma)) {
            seen.add(t.lemma);
            e.documents++;
          }
          stats.set(t.lemma, e);
        }
      }
    }
    const terms = [...stats]
      .map(([term, e]) => ({ term, count: e.count, documents: e.documents }))
      .sort((a, b) => b.count - a.count || b.documents - a.documents || (a.term < b.term ? -1 : 1))
      .slice(0, params.top);
    return { keywords: terms };
  },
} satisfies OperationImpl<z.infer<typeof keywordsParams>>);

// ---------------------------------------------------------------- entities

export const ENTITY_TYPES = [
  'NAME',
  'DATE',
  'TIME',
  'DURATION',
  'MONEY',
  'PERCENT',
  'CARDINAL',
  'ORDINAL',
  'EMAIL',
  'URL',
  'HASHTAG',
  'MENTION',
  'EMOJI',
  'EMOTICON',
] as const;

const entitiesParams = z
  .object({
    types: z.array(z.enum(ENTITY_TYPES)).min(1).optional().describe('only these entity types (default: all)'),
    top: z.number().int().min(1).max(500).default(50).describe('number of distinct entities to return'),
  })
  .strict();

interface EntityMention {
  type: string;
  value: string;
}

/** wink's entities plus NAME: runs of capitalised proper nouns (people, places, organisations) not inside another entity. */
function entityMentions(nlp: WinkMethods, text: string): EntityMention[] {
  const { its } = nlp;
  const doc = nlp.readDoc(text);
  const out: EntityMention[] = [];
  const covered = new Set<number>();
  doc.entities().each((e: ItemEntity) => {
    const [start, end] = e.out(its.span) as unknown as [number, number];
    for (let i = start; i <= end; i++) covered.add(i);
    out.push({ type: String(e.out(its.type)), value: e.out() });
  });
  const tokens = doc.tokens();
  const pos = tokens.out(its.pos);
  const values = tokens.out(its.value);
  const types = tokens.out(its.type);
  const spaces = tokens.out(its.precedingSpaces);
  const sentenceStarts = new Set<number>();
  doc.sentences().each((s: ItemSentence) => {
    sentenceStarts.add((s.out(its.span) as unknown as [number, number])[0]);
  });
  /** Where a capitalised common word is just a sentence, line or header start ("Kind regards", "Subject: …"). */
  const atStart = (i: number): boolean => {
    // wink keeps line breaks as tokens of their own.
    const prev = i === 0 ? '\n' : String(values[i - 1]);
    return (
      sentenceStarts.has(i) ||
      prev.includes('\n') ||
      prev === ':' ||
      (sentenceStarts.has(i - 1) && prev.trim() === '')
    );
  };
  let run: number[] = [];
  const flush = (): void => {
    const first = run[0];
    if (first !== undefined) {
      const value = run
        .map((i, j) => (j === 0 ? '' : String(spaces[i]).replace(/\s+/g, ' ')) + String(values[i]))
        .join('');
      const label = values[run[run.length - 1] + 1] === ':';
      const commonWordAtStart = run.length === 1 && atStart(first) && doc.isLexeme(value.toLowerCase());
      if (!label && !commonWordAtStart) out.push({ type: 'NAME', value });
    }
    run = [];
  };
  for (let i = 0; i < values.length; i++) {
    const isName =
      pos[i] === 'PROPN' && types[i] === 'word' && !covered.has(i) && /^\p{Lu}/u.test(String(values[i]));
    // A line break (its own token) ends a name: "Anna\nSam" is two people.
    if (!isName) flush();
    if (isName) run.push(i);
  }
  flush();
  return out;
}

const entities = defineOperation({
  ...builtinIdentity,
  name: 'entities',
  version: '1.0.0',
  description:
    'Named entities by type with counts: NAME (proper-noun phrases), DATE, TIME, DURATION, MONEY, PERCENT, CARDINAL, ORDINAL, EMAIL, URL, HASHTAG, MENTION, EMOJI, EMOTICON.',
  aggregate: false,
  params: entitiesParams,
  limits: perPersonLimits,
  async run(params, docs, ctx) {
    const nlp = await getNlp();
    const wanted = params.types ? new Set<string>(params.types) : undefined;
    const found = new Map<string, { type: string; value: string; count: number; documents: number }>();
    for (const doc of docs) {
      const seen = new Set<string>();
      for (const block of splitBlocks(doc.text, BLOCK_CHARS)) {
        throwIfAborted(ctx.signal);
        for (const m of entityMentions(nlp, block)) {
          if (wanted && !wanted.has(m.type)) continue;
          const key = `${m.type}\u0000${m.value.toLowerCase().replace(/\s+/g, ' ')}`;
          const e = found.get(key) ?? { type: m.type, value: m.value, count: 0, documents: 0 };
          e.count++;
          if (!seen.has(key)) {
            seen.add(key);
            e.documents++;
          }
          found.set(key, e);
        }
      }
    }
    const all = [...found.values()];
    const byType: Record<string, { distinct: number; mentions: number }> = {};
    for (const e of all) {
      const t = (byType[e.type] ??= { distinct: 0, mentions: 0 });
      t.distinct++;
      t.mentions += e.count;
    }
    all.sort(
      (a, b) =>
        b.count - a.count || (a.type < b.type ? -1 : a.type > b.type ? 1 : a.value < b.value ? -1 : 1),
    );
    return { entities: all.slice(0, params.top), byType };
  },
} satisfies OperationImpl<z.infer<typeof entitiesParams>>);

// ---------------------------------------------------------------- stats

const statsParams = z.object({}).strict();

function codePoints(s: string): number {
  let surrogates = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) surrogates++;
  }
  return s.length - surrogates;
}

const stats = defineOperation({
  ...builtinIdentity,
  name: 'stats',
  version: '1.0.0',
  description:
    'Counts: documents, words, unique words, sentences, characters, bytes, average sentence length and reading time, overall and per document.',
  aggregate: false,
  params: statsParams,
  limits: perPersonLimits,
  async run(_params, docs, ctx) {
    const analysed = await analyse(docs, ctx.signal);
    const unique = new Set<string>();
    let words = 0;
    let sentences = 0;
    let characters = 0;
    let bytes = 0;
    const perDocument = analysed.map(({ doc, sentences: ss }) => {
      const w = countWords(ss);
      for (const s of ss) for (const t of s.tokens) if (t.type === 'word') unique.add(t.normal);
      const chars = codePoints(doc.text);
      words += w;
      sentences += ss.length;
      characters += chars;
      bytes += doc.bytes;
      return {
        fileId: doc.fileId,
        name: doc.name,
        words: w,
        sentences: ss.length,
        characters: chars,
        bytes: doc.bytes,
        readingTimeSeconds: Math.round((w / READING_WPM) * 60),
      };
    });
    return {
      documents: docs.length,
      words,
      uniqueWords: unique.size,
      sentences,
      characters,
      bytes,
      averageWordsPerSentence: sentences === 0 ? 0 : round(words / sentences, 2),
      readingTimeSeconds: Math.round((words / READING_WPM) * 60),
      perDocument,
    };
  },
} satisfies OperationImpl<z.infer<typeof statsParams>>);

// ---------------------------------------------------------------- ask

const MAX_PASSAGE_CHARS = 700;

export interface Passage {
  fileId: string;
  name: string;
  /** Position of the passage within its document. */
  passage: number;
  text: string;
  terms: string[];
  entityTypes: Set<string>;
}

/** Index terms: lemmas of non-stop words ("swam" → "swim", "appointments" → "appointment"), and numbers as written. */
export function indexTerms(tokens: readonly TokenInfo[]): string[] {
  const out: string[] = [];
  for (const t of tokens) {
    if (t.stop) continue;
    if (t.type === 'word' && /\p{L}/u.test(t.normal)) out.push(t.lemma);
    else if (t.type === 'number' || t.type === 'ordinal') out.push(t.normal);
  }
  return out;
}

/** Paragraphs, with long ones cut into runs of whole sentences of at most ~700 characters. */
export async function splitPassages(docs: readonly TextDocument[], signal?: AbortSignal): Promise<Passage[]> {
  const nlp = await getNlp();
  const { its } = nlp;
  const out: Passage[] = [];
  for (const doc of docs) {
    let n = 0;
    for (const para of doc.text.split(/\n[ \t]*\n/)) {
      if (para.trim().length === 0) continue;
      throwIfAborted(signal);
      for (const block of splitBlocks(para, BLOCK_CHARS)) {
        const wdoc = nlp.readDoc(block);
        const sentences: SentenceInfo[] = [];
        const sentenceEntities = new Map<SentenceInfo, string[]>();
        wdoc.sentences().each((s: ItemSentence) => {
          const ts = s.tokens();
          const tokens = ts.out(its.normal).map((normal, i) => ({ normal, i }));
          const lemmas = ts.out(lemmaOf(nlp));
          const types = ts.out(its.type);
          const stop = ts.out(its.stopWordFlag);
          const info: SentenceInfo = {
            text: s.out().trim(),
            sentiment: 0,
            tokens: tokens.map(({ normal, i }) => ({
              normal: String(normal),
              lemma: String(lemmas[i]),
              stem: '',
              pos: '',
              type: String(types[i]),
              stop: stop[i] === true,
            })),
          };
          sentences.push(info);
          sentenceEntities.set(info, s.entities().out(its.type).map(String));
        });
        const push = (group: SentenceInfo[], text: string): void => {
          const terms = group.flatMap((s) => indexTerms(s.tokens));
          if (terms.length === 0) return;
          const entityTypes = new Set(group.flatMap((s) => sentenceEntities.get(s) ?? []));
          out.push({ fileId: doc.fileId, name: doc.name, passage: n++, text, terms, entityTypes });
        };
        if (block.length <= MAX_PASSAGE_CHARS) {
          push(sentences, block.trim().replace(/[ \t]*\n[ \t]*/g, '\n'));
          continue;
        }
        let group: SentenceInfo[] = [];
        let length = 0;
        for (const s of sentences) {
          if (group.length > 0 && length + s.text.length + 1 > MAX_PASSAGE_CHARS) {
            push(group, group.map((g) => g.text).join(' '));
            group = [];
            length = 0;
          }
          group.push(s);
          length += s.text.length + 1;
        }
        if (group.length > 0) push(group, group.map((g) => g.text).join(' '));
      }
    }
  }
  return out;
}

/** Entity types that answer a question word: "when" wants a DATE or TIME, "how much" MONEY… */
function expectedEntityTypes(question: string): string[] {
  const q = question.toLowerCase();
  if (/\b(what time|when)\b/.test(q)) return ['DATE', 'TIME', 'DURATION'];
  if (/\bhow (much|expensive)\b|\bcost\b|\bprice\b/.test(q)) return ['MONEY'];
  if (/\bhow (many|often)\b/.test(q)) return ['CARDINAL', 'PERCENT'];
  if (/\bhow long\b/.test(q)) return ['DURATION', 'DATE', 'TIME'];
  return [];
}

/** Small boost for passages holding the kind of answer the question asks for; only reorders passages that already match. */
const ANSWER_TYPE_BOOST = 1.15;

const askParams = z
  .object({
    question: z.string().trim().min(1).max(1000).describe('a question in English'),
    topK: z.number().int().min(1).max(20).default(3).describe('number of passages to return'),
  })
  .strict();

const ask = defineOperation({
  ...builtinIdentity,
  name: 'ask',
  version: '1.0.0',
  description:
    'Answers a question with the most relevant passages (paragraphs or runs of sentences) of the data, ranked by BM25, with their scores and file ids.',
  aggregate: false,
  params: askParams,
  limits: { ...perPersonLimits, maxOutputBytes: 256 * KiB },
  async run(params, docs, ctx) {
    const nlp = await getNlp();
    const passages = await splitPassages(docs, ctx.signal);
    throwIfAborted(ctx.signal);
    const query = readSentences(nlp, params.question).flatMap((s) => indexTerms(s.tokens));
    const index = new Bm25Index(passages.map((p) => p.terms));
    const wanted = expectedEntityTypes(params.question);
    const hits = index
      .search(query, Math.max(params.topK * 4, 20))
      .map((h) => {
        const p = passages[h.index];
        const boost = wanted.some((t) => p.entityTypes.has(t)) ? ANSWER_TYPE_BOOST : 1;
        return { ...h, score: h.score * boost };
      })
      .sort((a, b) => b.score - a.score || a.index - b.index)
      .slice(0, params.topK);
    return {
      question: params.question,
      passages: hits.map((h) => {
        const p = passages[h.index];
        return { fileId: p.fileId, name: p.name, passage: p.passage, text: p.text, score: round(h.score) };
      }),
    };
  },
} satisfies OperationImpl<z.infer<typeof askParams>>);

export const builtinOperations: OperationImpl[] = [summarize, sentiment, keywords, entities, stats, ask];
