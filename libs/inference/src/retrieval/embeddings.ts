import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCompactEmbeddings, EMBEDDINGS_FILE_NAME, type CompactEmbeddings } from './embeddings-format';
import { isStopWord } from './tokenize';

/** Where the build step writes the compact vectors: dist/libs/inference/assets (this file is in src/retrieval). */
export const EMBEDDINGS_PATH = join(__dirname, '..', '..', 'assets', EMBEDDINGS_FILE_NAME);

let loaded: CompactEmbeddings | null | undefined;

/**
 * The compact GloVe vectors, read on first use (≈ 11 MB, tens of ms) and kept for the life of the child: they
 * hold no tenant data. Null when the build step did not produce them: retrieval is then BM25 alone.
 */
export function getEmbeddings(path: string = EMBEDDINGS_PATH): CompactEmbeddings | null {
  if (loaded !== undefined) return loaded;
  loaded = existsSync(path) ? decodeCompactEmbeddings(readFileSync(path)) : null;
  return loaded;
}

/** Reused accumulator: one vector per record would be garbage for the collector at indexing speed. */
let scratch = new Float32Array(0);

/**
 * A text's vector: the weighted mean of its content words' unit vectors (see `weights`), as int8 scaled to ±127,
 * or null when none of its words is known.
 */
export function textVector(
  e: CompactEmbeddings,
  tokens: readonly string[],
  out?: Int8Array,
): Int8Array | null {
  const dims = e.dims;
  if (scratch.length !== dims) scratch = new Float32Array(dims);
  const sum = scratch.fill(0);
  const components = e.components;
  let n = 0;
  for (const w of tokens) {
    if (isStopWord(w)) continue;
    const i = e.words.get(w);
    if (i === undefined) continue;
    const weight = e.weights[i];
    const base = i * dims;
    for (let d = 0; d < dims; d++) sum[d] += components[base + d] * weight;
    n++;
  }
  if (n === 0) return null;
  let max = 0;
  for (let d = 0; d < dims; d++) {
    const a = Math.abs(sum[d]);
    if (a > max) max = a;
  }
  const v = out ?? new Int8Array(dims);
  if (max === 0) return v;
  const k = 127 / max;
  for (let d = 0; d < dims; d++) v[d] = Math.round(sum[d] * k);
  return v;
}

/** Cosine of two int8 vectors, `b` read at `offset` of a packed array. */
export function cosine(a: Int8Array, b: Int8Array, offset: number, dims: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let d = 0; d < dims; d++) {
    const x = a[d];
    const y = b[offset + d];
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
