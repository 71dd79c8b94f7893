import { Bm25Index, topHits } from '../builtin/bm25';
import type { DataRecord } from '../records/types';
import { AliasTable, relationSynonyms } from './aliases';
import { cosine, getEmbeddings, textVector } from './embeddings';
import type { FileIndex } from './file-index';
import { queryTerms, queryWords, stem, words } from './tokenize';

export type RetrievalMode = 'hybrid' | 'bm25';

export interface RetrievalHit {
  index: number;
  record: DataRecord;
  score: number;
  bm25: number;
  dense: number;
}

export interface SearchOptions {
  mode?: RetrievalMode;
  limit?: number;
}

/** What a question asks for beyond its words: the latest or the earliest matching record. */
export type TimeIntent = 'latest' | 'earliest' | null;

export function timeIntent(question: string): TimeIntent {
  const q = question.toLowerCase();
  if (/\b(last|latest|most recent(ly)?|recently)\b/.test(q)) return 'latest';
  if (/\b(first|earliest)\b/.test(q) && /\bwhen\b|\btime\b/.test(q)) return 'earliest';
  return null;
}

/** Weight of the dense score in the fused one; BM25 gets the rest. Tuned on bench/corpus. */
const DENSE_WEIGHT = 0.5;
/** Added to the fused score of a record written by someone the question names. */
const AUTHOR_BOOST = 0.05;
/**
 * A dated candidate within this share of the best fused score, sharing at least one word with the question (or
 * its aliases), may answer a "when did I last …" question.
 */
const TIME_INTENT_SHARE = 0.45;

/**
 * Hybrid retrieval over the records of some files: BM25 over index terms, cosine over mean GloVe vectors, each
 * normalised to its best hit and mixed; the question expanded with aliases learned from the data.
 */
export class Retriever {
  readonly records: DataRecord[] = [];
  private readonly bm25: Bm25Index;
  private readonly vectors: Int8Array | null;
  private readonly dims: number;
  readonly aliases = new AliasTable();

  constructor(indexes: readonly FileIndex[]) {
    const allTerms: string[][] = [];
    const withVectors = indexes.length > 0 && indexes.every((i) => i.vectors !== null && i.dims > 0);
    this.dims = withVectors ? indexes[0].dims : 0;
    const total = indexes.reduce((n, i) => n + i.records.length, 0);
    this.vectors =
      withVectors && indexes.every((i) => i.dims === this.dims) ? new Int8Array(total * this.dims) : null;
    for (const index of indexes) {
      if (this.vectors && index.vectors) this.vectors.set(index.vectors, this.records.length * this.dims);
      for (let i = 0; i < index.records.length; i++) {
        this.records.push(index.records[i]);
        allTerms.push(index.terms[i] ?? []);
      }
      this.aliases.merge(index.aliases);
    }
    this.bm25 = new Bm25Index(allTerms);
  }

  get dense(): boolean {
    return this.vectors !== null && getEmbeddings() !== null;
  }

  /** The question's words plus the names its relation words stand for ("sister" → "Leah"). */
  expand(question: string): { terms: string[]; words: string[]; names: string[] } {
    const qWords = queryWords(question);
    const names: string[] = [];
    const synonyms: string[] = [];
    for (const w of words(question)) {
      for (const name of this.aliases.namesFor(w)) names.push(name);
      synonyms.push(...relationSynonyms(w));
    }
    const nameWords = names.flatMap((n) => words(n));
    return {
      terms: [...queryTerms(question), ...synonyms.map(stem), ...nameWords.map(stem), ...nameWords.map(stem)],
      words: [...qWords, ...nameWords],
      names,
    };
  }

  search(question: string, options: SearchOptions = {}): RetrievalHit[] {
    const mode = options.mode ?? 'hybrid';
    const limit = options.limit ?? 10;
    const q = this.expand(question);
    const pool = Math.max(limit * 5, 50);
    const bm25 = this.bm25.search(q.terms, pool);
    const scores = new Map<number, { bm25: number; dense: number }>();
    const bestBm25 = bm25[0]?.score ?? 0;
    for (const h of bm25) scores.set(h.index, { bm25: bestBm25 > 0 ? h.score / bestBm25 : 0, dense: 0 });
    const e = getEmbeddings();
    if (mode === 'hybrid' && this.vectors && e) {
      const qv = textVector(e, q.words);
      if (qv) {
        const n = this.records.length;
        const dense = new Float32Array(n);
        const all: number[] = new Array<number>(n);
        for (let i = 0; i < n; i++) {
          dense[i] = cosine(qv, this.vectors, i * this.dims, this.dims);
          all[i] = i;
        }
        const top = topHits(all, dense, pool).map((h) => h.index);
        const best = dense[top[0] ?? 0] ?? 0;
        // Normalised between the pool's floor and its best, so a corpus-wide similarity floor counts for nothing.
        const floor = dense[top[top.length - 1] ?? 0] ?? 0;
        const span = best - floor;
        for (const i of new Set([...top, ...scores.keys()])) {
          const s = scores.get(i) ?? { bm25: 0, dense: 0 };
          s.dense = span > 0 ? Math.max(0, (dense[i] - floor) / span) : 0;
          scores.set(i, s);
        }
      }
    }
    const weight = mode === 'hybrid' && this.vectors && e ? DENSE_WEIGHT : 0;
    // People the question names (or means, through an alias) count a little when they wrote the record.
    const people = new Set([...q.names, ...words(question)].map((w) => w.toLowerCase()));
    const wrote = (r: DataRecord) =>
      r.author !== null && people.has((r.author.split(/\s+/)[0] ?? '').toLowerCase());
    const hits = [...scores]
      .map(([index, s]) => ({
        index,
        record: this.records[index],
        bm25: s.bm25,
        dense: s.dense,
        score: (1 - weight) * s.bm25 + weight * s.dense + (wrote(this.records[index]) ? AUTHOR_BOOST : 0),
      }))
      .filter((h) => h.score > 0)
      .sort((a, b) => b.score - a.score || a.index - b.index);
    return this.applyTimeIntent(hits, timeIntent(question)).slice(0, limit);
  }

  /** "When did I last …": of the candidates close to the best, the latest dated one goes first. */
  private applyTimeIntent(hits: RetrievalHit[], intent: TimeIntent): RetrievalHit[] {
    if (!intent || hits.length === 0) return hits;
    const best = hits[0].score;
    const close = hits.filter(
      (h) => h.record.time !== null && h.bm25 > 0 && h.score >= best * TIME_INTENT_SHARE,
    );
    if (close.length === 0) return hits;
    close.sort((a, b) =>
      intent === 'latest'
        ? a.record.time! < b.record.time!
          ? 1
          : -1
        : a.record.time! < b.record.time!
          ? -1
          : 1,
    );
    const chosen = close[0];
    return [chosen, ...hits.filter((h) => h !== chosen)];
  }
}
