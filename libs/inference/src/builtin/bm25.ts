/** Okapi BM25 over pre-tokenised documents, with an inverted index so a query touches only its terms' postings. */
export interface Bm25Options {
  k1?: number;
  b?: number;
}

export interface Bm25Hit {
  index: number;
  score: number;
}

export class Bm25Index {
  private readonly postings = new Map<string, { doc: number; tf: number }[]>();
  private readonly lengths: Uint32Array;
  private readonly avgLength: number;
  private readonly k1: number;
  private readonly b: number;

  constructor(docs: readonly (readonly string[])[], options: Bm25Options = {}) {
    this.k1 = options.k1 ?? 1.2;
    this.b = options.b ?? 0.75;
    this.lengths = new Uint32Array(docs.length);
    let total = 0;
    docs.forEach((terms, doc) => {
      this.lengths[doc] = terms.length;
      total += terms.length;
      const tf = new Map<string, number>();
      for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
      for (const [term, n] of tf) {
        let list = this.postings.get(term);
        if (!list) this.postings.set(term, (list = []));
        list.push({ doc, tf: n });
      }
    });
    this.avgLength = docs.length > 0 ? total / docs.length : 0;
  }

  get size(): number {
    return this.lengths.length;
  }

  /** Top `k` documents by BM25 score (> 0), best first; ties keep document order, so results are deterministic. */
  search(query: readonly string[], k: number): Bm25Hit[] {
    const n = this.lengths.length;
    // A dense accumulator and the list of documents touched: no Map per query, which at 10,000 matching
    // documents cost more than the scoring itself.
    const scores = new Float64Array(n);
    const touched: number[] = [];
    for (const term of new Set(query)) {
      const list = this.postings.get(term);
      if (!list) continue;
      const idf = Math.log(1 + (n - list.length + 0.5) / (list.length + 0.5));
      for (const { doc, tf } of list) {
        const norm = this.avgLength > 0 ? (this.lengths[doc] ?? 0) / this.avgLength : 1;
        const s = (idf * tf * (this.k1 + 1)) / (tf + this.k1 * (1 - this.b + this.b * norm));
        if (scores[doc] === 0) touched.push(doc);
        scores[doc] = (scores[doc] ?? 0) + s;
      }
    }
    return topHits(touched, scores, k);
  }
}

/** The `k` best of the candidates by score (> 0), best first, ties by index: a threshold pass, then a small sort. */
export function topHits(candidates: readonly number[], scores: ArrayLike<number>, k: number): Bm25Hit[] {
  let pool = candidates;
  if (candidates.length > k * 4 && k > 0) {
    // The k-th best score from a sorted sample of the candidates' scores bounds what can make the cut.
    const values = Float64Array.from(candidates, (i) => scores[i] ?? 0).sort();
    const threshold = values[values.length - k] ?? 0;
    pool = candidates.filter((i) => (scores[i] ?? 0) >= threshold);
  }
  return pool
    .filter((i) => (scores[i] ?? 0) > 0)
    .map((index) => ({ index, score: scores[index] ?? 0 }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, k);
}
