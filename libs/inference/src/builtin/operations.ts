import type { ItemEntity, ItemSentence, WinkMethods } from 'wink-nlp';
import { z } from 'zod';
import { defineOperation, MiB, type OperationImpl } from '../operation';
import { splitBlocks, throwIfAborted, type TextDocument } from '../text';
import { BUILTIN_ENGINE_VERSION, BUILTIN_MODEL } from './engine';
import {
  countWords,
  getNlp,
  lemmaOf,
  isContentWord,
  readSentences,
  readWordSentences,
  type SentenceInfo,
  type TokenInfo,
  type WordSentence,
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

/** Every document's non-empty sentences as `read` gives them, reading in bounded blocks. */
async function readDocuments<S extends { tokens: readonly unknown[] }>(
  docs: readonly TextDocument[],
  signal: AbortSignal | undefined,
  read: (nlp: WinkMethods, text: string) => S[],
): Promise<Array<{ doc: TextDocument; sentences: S[] }>> {
  const nlp = await getNlp();
  const out: Array<{ doc: TextDocument; sentences: S[] }> = [];
  for (const doc of docs) {
    const sentences: S[] = [];
    for (const block of splitBlocks(doc.text, BLOCK_CHARS)) {
      throwIfAborted(signal);
      for (const s of read(nlp, block)) if (s.tokens.length > 0) sentences.push(s);
    }
    out.push({ doc, sentences });
  }
  return out;
}

/** Sentences and token features of every document. */
export function analyse(docs: readonly TextDocument[], signal?: AbortSignal): Promise<AnalysedDocument[]> {
  return readDocuments(docs, signal, readSentences);
}

/** Sentences and words of every document, for operations that only count (see readWordSentences). */
export function analyseWords(
  docs: readonly TextDocument[],
  signal?: AbortSignal,
): Promise<Array<{ doc: TextDocument; sentences: WordSentence[] }>> {
  return readDocuments(docs, signal, readWordSentences);
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

// ---------------------------------------------------------------- sentiment

const sentimentParams = z.object({}).strict();

const sentiment = defineOperation({
  ...builtinIdentity,
  name: 'sentiment',
  version: '1.0.0',
  discloses: 'scores and sentence counts per file, with file names; no passages',
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

export interface EntityMention {
  type: string;
  value: string;
}

/** wink's entities plus NAME: runs of capitalised proper nouns (people, places, organisations) not inside another entity. */
export function entityMentions(nlp: WinkMethods, text: string): EntityMention[] {
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
  discloses: 'counts per file, with file names; no passages',
  description:
    'Counts: documents, words, unique words, sentences, characters, bytes, average sentence length and reading time, overall and per document.',
  aggregate: false,
  params: statsParams,
  limits: perPersonLimits,
  async run(_params, docs, ctx) {
    const analysed = await analyseWords(docs, ctx.signal);
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

/** Text-level operations; summarize, ask, keywords, entities and timeline work on records (records-ops.ts). */
export const builtinOperations: OperationImpl[] = [sentiment, stats];
