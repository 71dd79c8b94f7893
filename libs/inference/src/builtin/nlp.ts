import type { ItemSentence, ItsFunction, WinkMethods } from 'wink-nlp';
import { InferenceError } from '../errors';

let loaded: WinkMethods | undefined;

/**
 * The wink model takes ~300 ms and ~60 MB to load, so it is loaded on first use and kept for the
 * life of the process (it holds no tenant data).
 */
export async function getNlp(): Promise<WinkMethods> {
  if (loaded) return loaded;
  try {
    const [{ default: winkNLP }, { default: model }] = await Promise.all([
      import('wink-nlp'),
      import('wink-eng-lite-web-model'),
    ]);
    loaded ??= winkNLP(model);
    return loaded;
  } catch (e) {
    throw new InferenceError('engine_unavailable', 'the builtin engine could not load wink-nlp', undefined, {
      cause: e,
    });
  }
}

// why: wink's typings declare lemma/stem with an (index, rdd, addons) signature that is not one of
// its own ItsFunction shapes, although `out()` accepts them at run time.
export const lemmaOf = (nlp: WinkMethods): ItsFunction<string> =>
  nlp.its.lemma as unknown as ItsFunction<string>;
export const stemOf = (nlp: WinkMethods): ItsFunction<string> =>
  nlp.its.stem as unknown as ItsFunction<string>;

export interface TokenInfo {
  normal: string;
  lemma: string;
  stem: string;
  pos: string;
  type: string;
  stop: boolean;
}

export interface SentenceInfo {
  text: string;
  tokens: TokenInfo[];
  sentiment: number;
}

/** Token-level features of one sentence, read through wink's typed `its` helpers. */
export function sentenceInfo(nlp: WinkMethods, s: ItemSentence): SentenceInfo {
  const { its } = nlp;
  const ts = s.tokens();
  // Batch reads per sentence: one call per feature instead of one per token.
  const normal = ts.out(its.normal);
  const lemma = ts.out(lemmaOf(nlp));
  const stem = ts.out(stemOf(nlp));
  const pos = ts.out(its.pos);
  const type = ts.out(its.type);
  const stop = ts.out(its.stopWordFlag);
  const tokens: TokenInfo[] = normal.map((n, i) => ({
    normal: String(n),
    lemma: String(lemma[i]),
    stem: String(stem[i]),
    pos: String(pos[i]),
    type: String(type[i]),
    stop: stop[i] === true,
  }));
  return { text: s.out(), tokens, sentiment: Number(s.out(its.sentiment)) };
}

/** A sentence as counting needs it: each token's normal form and type, nothing tagged or stemmed. */
export interface WordSentence {
  tokens: Array<Pick<TokenInfo, 'normal' | 'type'>>;
}

/**
 * Sentences with only the features counting reads: stemming, lemmas and sentiment are most of the cost of
 * `readSentences` and change no count.
 */
export function readWordSentences(nlp: WinkMethods, text: string): WordSentence[] {
  const { its } = nlp;
  const out: WordSentence[] = [];
  nlp
    .readDoc(text)
    .sentences()
    .each((s: ItemSentence) => {
      const ts = s.tokens();
      const type = ts.out(its.type);
      out.push({ tokens: ts.out(its.normal).map((n, i) => ({ normal: String(n), type: String(type[i]) })) });
    });
  return out;
}

export function readSentences(nlp: WinkMethods, text: string): SentenceInfo[] {
  const out: SentenceInfo[] = [];
  nlp
    .readDoc(text)
    .sentences()
    .each((s: ItemSentence) => {
      out.push(sentenceInfo(nlp, s));
    });
  return out;
}

const CONTENT_POS = new Set(['NOUN', 'PROPN', 'ADJ', 'VERB']);

/** Meaningful words: not stop words, not punctuation or numbers, at least 3 letters. */
export function isContentWord(t: TokenInfo): boolean {
  return t.type === 'word' && !t.stop && t.lemma.length >= 3 && /\p{L}/u.test(t.lemma);
}

export function isContentTerm(t: TokenInfo): boolean {
  return isContentWord(t) && CONTENT_POS.has(t.pos);
}

export function countWords(sentences: readonly WordSentence[]): number {
  let n = 0;
  for (const s of sentences) for (const t of s.tokens) if (t.type === 'word') n++;
  return n;
}
