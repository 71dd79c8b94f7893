/**
 * The compact word-vector file: `HGV1`, uint32 word count, uint32 dimensions, uint32 byte length of the words
 * (UTF-8, one per line, most frequent first), the words, float32 scales (one per word), int8 components.
 * A component is `int8 * scale / 127` of the unit-length vector.
 */
export const EMBEDDINGS_FILE_NAME = 'glove-100k-int8.bin';
const MAGIC = 'HGV1';

export interface CompactEmbeddings {
  dims: number;
  words: Map<string, number>;
  scales: Float32Array;
  components: Int8Array;
  /**
   * Per word, the factor that turns its int8 components into its pooling contribution: its scale / 127, weighted
   * down by frequency rank (the most frequent words carry little meaning; an approximation of smooth inverse
   * frequency).
   */
  weights: Float32Array;
}

export function encodeCompactEmbeddings(
  words: readonly string[],
  vectors: readonly Float32Array[],
  dims: number,
): Buffer {
  const wordBytes = Buffer.from(words.join('\n'), 'utf8');
  const header = Buffer.alloc(16);
  header.write(MAGIC, 0, 'ascii');
  header.writeUInt32LE(words.length, 4);
  header.writeUInt32LE(dims, 8);
  header.writeUInt32LE(wordBytes.length, 12);
  const scales = new Float32Array(words.length);
  const components = new Int8Array(words.length * dims);
  vectors.forEach((v, i) => {
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm) || 1;
    let max = 0;
    for (const x of v) max = Math.max(max, Math.abs(x / norm));
    scales[i] = max;
    for (let d = 0; d < dims; d++)
      components[i * dims + d] = max === 0 ? 0 : Math.round(((v[d] ?? 0) / norm / max) * 127);
  });
  return Buffer.concat([header, wordBytes, Buffer.from(scales.buffer), Buffer.from(components.buffer)]);
}

export function decodeCompactEmbeddings(bytes: Buffer): CompactEmbeddings {
  if (bytes.toString('ascii', 0, 4) !== MAGIC) throw new Error('not a compact embeddings file');
  const count = bytes.readUInt32LE(4);
  const dims = bytes.readUInt32LE(8);
  const wordLength = bytes.readUInt32LE(12);
  const list = bytes.toString('utf8', 16, 16 + wordLength).split('\n');
  const words = new Map<string, number>();
  list.forEach((w, i) => words.set(w, i));
  let at = 16 + wordLength;
  // Copies, so the arrays are aligned whatever the header length.
  const scales = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + count * 4),
  );
  at += count * 4;
  const components = new Int8Array(
    bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + count * dims),
  );
  const weights = new Float32Array(count);
  for (let i = 0; i < count; i++) weights[i] = (Math.min(1, Math.log10(i + 10) / 3) * scales[i]) / 127;
  return { dims, words, scales, components, weights };
}
