import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Reads the scalar metadata of a GGUF file's header (arrays such as the vocabulary are skipped, except for their
 * length), synchronously and a buffer at a time: what sizing a child's memory needs, without loading llama.cpp.
 */
export interface GgufHeader {
  version: number;
  tensorCount: number;
  /** Scalar values by key; an array's entry is its length (`tokenizer.ggml.tokens` → the vocabulary size). */
  metadata: Map<string, string | number | bigint | boolean>;
  fileBytes: number;
}

const MAGIC = 0x46554747;
const CHUNK = 1 << 20;
/** A header claiming more than this is not one (a string or array length read from garbage). */
const MAX_ITEMS = 1 << 28;

class Reader {
  private buf = Buffer.alloc(0);
  private pos = 0;
  private fileOffset = 0;

  constructor(
    private readonly fd: number,
    private readonly size: number,
  ) {}

  private need(n: number): void {
    if (this.buf.length - this.pos >= n) return;
    const rest = this.buf.subarray(this.pos);
    const want = Math.max(n - rest.length, CHUNK);
    const next = Buffer.alloc(Math.min(want, this.size - this.fileOffset));
    const read = readSync(this.fd, next, 0, next.length, this.fileOffset);
    this.fileOffset += read;
    this.buf = Buffer.concat([rest, next.subarray(0, read)]);
    this.pos = 0;
    if (this.buf.length < n) throw new Error('the GGUF header ends early');
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  skip(n: number): void {
    while (n > 0) {
      const step = Math.min(n, CHUNK);
      this.need(step);
      this.pos += step;
      n -= step;
    }
  }
  count(): number {
    const n = this.u64();
    if (n > BigInt(MAX_ITEMS)) throw new Error('a GGUF length is out of range');
    return Number(n);
  }
  string(): string {
    const n = this.count();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  /** A value of this GGUF type: scalars as numbers (64-bit as bigint), strings, arrays as their length. */
  value(type: number): string | number | bigint | boolean {
    switch (type) {
      case 0:
        return this.u8();
      case 1:
        this.need(1);
        return this.buf.readInt8(this.pos++);
      case 2:
        this.need(2);
        this.pos += 2;
        return this.buf.readUInt16LE(this.pos - 2);
      case 3:
        this.need(2);
        this.pos += 2;
        return this.buf.readInt16LE(this.pos - 2);
      case 4:
        return this.u32();
      case 5:
        this.need(4);
        this.pos += 4;
        return this.buf.readInt32LE(this.pos - 4);
      case 6:
        this.need(4);
        this.pos += 4;
        return this.buf.readFloatLE(this.pos - 4);
      case 7:
        return this.u8() !== 0;
      case 8:
        return this.string();
      case 9: {
        const itemType = this.u32();
        const n = this.count();
        const width = FIXED_WIDTH[itemType];
        if (width !== undefined) this.skip(n * width);
        else if (itemType === 8) for (let i = 0; i < n; i++) this.skip(this.count());
        else throw new Error(`unsupported GGUF array of type ${itemType}`);
        return n;
      }
      case 10:
        return this.u64();
      case 11:
        this.need(8);
        this.pos += 8;
        return this.buf.readBigInt64LE(this.pos - 8);
      case 12:
        this.need(8);
        this.pos += 8;
        return this.buf.readDoubleLE(this.pos - 8);
      default:
        throw new Error(`unknown GGUF value type ${type}`);
    }
  }
}

const FIXED_WIDTH: Record<number, number> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};

export function readGgufHeader(path: string): GgufHeader {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const r = new Reader(fd, size);
    if (r.u32() !== MAGIC) throw new Error('not a GGUF file');
    const version = r.u32();
    if (version < 2) throw new Error(`GGUF version ${version} is not supported`);
    const tensorCount = r.count();
    const kvCount = r.count();
    const metadata = new Map<string, string | number | bigint | boolean>();
    for (let i = 0; i < kvCount; i++) {
      const key = r.string();
      metadata.set(key, r.value(r.u32()));
    }
    return { version, tensorCount, metadata, fileBytes: size };
  } finally {
    closeSync(fd);
  }
}

const MiB = 1024 * 1024;
/** llama.cpp's own code and buffers beside the weights, KV cache and logits (measured: ≈ 60–100 MiB). */
export const LLAMA_RUNTIME_MB = 128;
/** Tokens evaluated per batch (node-llama-cpp's default batch is min(context, 512)). */
const BATCH_TOKENS = 512;

/**
 * MiB a child holds with this model loaded and one context of `contextSize` tokens: the file (memory-mapped
 * weights, resident once touched), the f16 KV cache of every layer, a batch of f32 logits and the runtime.
 */
export function llamaResidentEstimateMb(modelPath: string, contextSize: number): number {
  const h = readGgufHeader(modelPath);
  const arch = String(h.metadata.get('general.architecture') ?? 'llama');
  const num = (key: string, fallback: number): number => {
    const v = h.metadata.get(`${arch}.${key}`);
    return typeof v === 'number' || typeof v === 'bigint' ? Number(v) : fallback;
  };
  const layers = num('block_count', 0);
  const embedding = num('embedding_length', 0);
  const heads = num('attention.head_count', 1) || 1;
  const headsKv = num('attention.head_count_kv', heads);
  const keyLength = num('attention.key_length', Math.floor(embedding / heads));
  const valueLength = num('attention.value_length', Math.floor(embedding / heads));
  const context = Math.min(contextSize, num('context_length', contextSize) || contextSize);
  const vocab = Number(h.metadata.get('tokenizer.ggml.tokens') ?? num('vocab_size', 0));
  const kvBytes = 2 * layers * context * headsKv * (keyLength + valueLength);
  const logitsBytes = 4 * vocab * Math.min(context, BATCH_TOKENS);
  return Math.ceil((h.fileBytes + kvBytes + logitsBytes) / MiB) + LLAMA_RUNTIME_MB;
}
