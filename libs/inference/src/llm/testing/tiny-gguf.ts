/**
 * A tiny llama-architecture model in GGUF v3 with seeded random weights, written at test time so the real
 * llama engine can be exercised without committing or downloading weights. Its output is gibberish; what it
 * proves is the wiring: load, tokenize, evaluate, sample under a grammar, time out, abort.
 *
 * Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md (little-endian header, metadata key/values,
 * tensor infos, then tensor data, each aligned to `general.alignment`).
 */
import { writeFile } from 'node:fs/promises';

const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
const GGUF_VERSION = 3;
const ALIGNMENT = 32;

enum ValueType {
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
}

enum GgmlType {
  F32 = 0,
}

/** llama.cpp's token types (llama_token_type). */
enum TokenType {
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  BYTE = 6,
}

type Value =
  | { type: ValueType.UINT32 | ValueType.INT32 | ValueType.FLOAT32; value: number }
  | { type: ValueType.BOOL; value: boolean }
  | { type: ValueType.STRING; value: string }
  | { type: ValueType.ARRAY; of: ValueType.STRING; value: string[] }
  | { type: ValueType.ARRAY; of: ValueType.FLOAT32 | ValueType.INT32; value: number[] };

export interface TinyModelShape {
  layers: number;
  embedding: number;
  heads: number;
  headsKv: number;
  feedForward: number;
  contextLength: number;
  /** Seed of the weights: the same seed writes the same file. */
  seed: number;
}

export const TINY_MODEL: TinyModelShape = {
  layers: 2,
  embedding: 64,
  heads: 4,
  headsKv: 4,
  feedForward: 128,
  contextLength: 1024,
  seed: 7,
};

/** SentencePiece's word-start marker, which llama's SPM tokenizer puts in place of spaces. */
const SPM_SPACE = '\u2581';

/**
 * A byte-level SPM vocabulary: the three specials, a token per byte (`<0xNN>`, the tokenizer's byte fallback)
 * and one per printable ASCII character with the space as `▁`, so grammar-constrained JSON has short tokens.
 */
export function tinyVocabulary(): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TokenType.BYTE);
  }
  tokens.push(SPM_SPACE);
  types.push(TokenType.NORMAL);
  for (let c = 0x21; c <= 0x7e; c++) {
    tokens.push(String.fromCharCode(c));
    types.push(TokenType.NORMAL);
  }
  return { tokens, scores: tokens.map(() => 0), types };
}

/** mulberry32: small, seeded, good enough for weights nobody reads. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Tensor {
  name: string;
  /** ggml order: the innermost (row) dimension first. */
  dims: number[];
  data: Float32Array;
}

function tensors(shape: TinyModelShape, vocab: number): Tensor[] {
  const next = random(shape.seed);
  const weights = (dims: number[], scale = 0.08): Tensor['data'] => {
    const n = dims.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (next() * 2 - 1) * scale;
    return out;
  };
  const ones = (n: number) => new Float32Array(n).fill(1);
  const e = shape.embedding;
  const kv = (e / shape.heads) * shape.headsKv;
  const out: Tensor[] = [{ name: 'token_embd.weight', dims: [e, vocab], data: weights([e, vocab], 0.5) }];
  for (let l = 0; l < shape.layers; l++) {
    const p = `blk.${l}`;
    out.push(
      { name: `${p}.attn_norm.weight`, dims: [e], data: ones(e) },
      { name: `${p}.attn_q.weight`, dims: [e, e], data: weights([e, e]) },
      { name: `${p}.attn_k.weight`, dims: [e, kv], data: weights([e, kv]) },
      { name: `${p}.attn_v.weight`, dims: [e, kv], data: weights([e, kv]) },
      { name: `${p}.attn_output.weight`, dims: [e, e], data: weights([e, e]) },
      { name: `${p}.ffn_norm.weight`, dims: [e], data: ones(e) },
      { name: `${p}.ffn_gate.weight`, dims: [e, shape.feedForward], data: weights([e, shape.feedForward]) },
      { name: `${p}.ffn_up.weight`, dims: [e, shape.feedForward], data: weights([e, shape.feedForward]) },
      { name: `${p}.ffn_down.weight`, dims: [shape.feedForward, e], data: weights([shape.feedForward, e]) },
    );
  }
  out.push(
    { name: 'output_norm.weight', dims: [e], data: ones(e) },
    { name: 'output.weight', dims: [e, vocab], data: weights([e, vocab], 0.5) },
  );
  return out;
}

function metadata(shape: TinyModelShape, vocab: ReturnType<typeof tinyVocabulary>): Array<[string, Value]> {
  const u32 = (value: number): Value => ({ type: ValueType.UINT32, value });
  return [
    ['general.architecture', { type: ValueType.STRING, value: 'llama' }],
    ['general.name', { type: ValueType.STRING, value: 'hearth-tiny-random' }],
    ['general.alignment', u32(ALIGNMENT)],
    ['general.file_type', u32(0)], // all F32
    ['llama.context_length', u32(shape.contextLength)],
    ['llama.embedding_length', u32(shape.embedding)],
    ['llama.block_count', u32(shape.layers)],
    ['llama.feed_forward_length', u32(shape.feedForward)],
    ['llama.attention.head_count', u32(shape.heads)],
    ['llama.attention.head_count_kv', u32(shape.headsKv)],
    ['llama.attention.layer_norm_rms_epsilon', { type: ValueType.FLOAT32, value: 1e-5 }],
    ['llama.rope.dimension_count', u32(shape.embedding / shape.heads)],
    ['llama.rope.freq_base', { type: ValueType.FLOAT32, value: 10000 }],
    ['llama.vocab_size', u32(vocab.tokens.length)],
    ['tokenizer.ggml.model', { type: ValueType.STRING, value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: ValueType.ARRAY, of: ValueType.STRING, value: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: ValueType.ARRAY, of: ValueType.FLOAT32, value: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: ValueType.ARRAY, of: ValueType.INT32, value: vocab.types }],
    ['tokenizer.ggml.unknown_token_id', u32(0)],
    ['tokenizer.ggml.bos_token_id', u32(1)],
    ['tokenizer.ggml.eos_token_id', u32(2)],
    ['tokenizer.ggml.add_bos_token', { type: ValueType.BOOL, value: true }],
    ['tokenizer.ggml.add_eos_token', { type: ValueType.BOOL, value: false }],
  ];
}

/** Appends little-endian values to a growing list of buffers. */
class Writer {
  readonly parts: Buffer[] = [];
  length = 0;

  push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  u32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    this.push(b);
  }
  i32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    this.push(b);
  }
  u64(n: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    this.push(b);
  }
  f32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(n);
    this.push(b);
  }
  string(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }
  pad(): void {
    const over = this.length % ALIGNMENT;
    if (over !== 0) this.push(Buffer.alloc(ALIGNMENT - over));
  }
  value(v: Value): void {
    switch (v.type) {
      case ValueType.UINT32:
        return this.u32(v.value);
      case ValueType.INT32:
        return this.i32(v.value);
      case ValueType.FLOAT32:
        return this.f32(v.value);
      case ValueType.BOOL:
        return this.push(Buffer.from([v.value ? 1 : 0]));
      case ValueType.STRING:
        return this.string(v.value);
      case ValueType.ARRAY:
        this.u32(v.of);
        this.u64(v.value.length);
        if (v.of === ValueType.STRING) for (const s of v.value) this.string(s);
        else if (v.of === ValueType.FLOAT32) for (const n of v.value) this.f32(n);
        else for (const n of v.value) this.i32(n);
        return;
    }
  }
}

/** The model file's bytes. */
export function tinyGguf(shape: TinyModelShape = TINY_MODEL): Buffer {
  const vocab = tinyVocabulary();
  const all = tensors(shape, vocab.tokens.length);
  const kvs = metadata(shape, vocab);
  const w = new Writer();
  w.u32(GGUF_MAGIC);
  w.u32(GGUF_VERSION);
  w.u64(all.length);
  w.u64(kvs.length);
  for (const [key, value] of kvs) {
    w.string(key);
    w.u32(value.type);
    w.value(value);
  }
  let offset = 0;
  for (const t of all) {
    w.string(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(GgmlType.F32);
    w.u64(offset);
    offset += Math.ceil(t.data.byteLength / ALIGNMENT) * ALIGNMENT;
  }
  w.pad();
  for (const t of all) {
    w.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    w.pad();
  }
  return Buffer.concat(w.parts, w.length);
}

/** Writes the tiny model to `path`; returns its size in bytes. */
export async function writeTinyGguf(path: string, shape: TinyModelShape = TINY_MODEL): Promise<number> {
  const bytes = tinyGguf(shape);
  await writeFile(path, bytes);
  return bytes.length;
}
