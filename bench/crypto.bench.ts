/**
 * Throughput of @hearth/crypto's chunked AES-256-GCM (streams and HEV1 envelope) against raw
 * node:crypto AES-256-GCM (one-shot cipher over the same bytes), encrypt + decrypt, measured in
 * the same run. Prints figures; not a test.
 *
 *   npx swc libs test bench -d dist --copy-files && node dist/bench/crypto.bench.js [rounds] [sweep]
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DEFAULT_CHUNK_SIZE,
  createDecryptStream,
  createEncryptStream,
  createEnvelopeDecryptStream,
  createEnvelopeEncryptStream,
  decryptChunks,
  encryptChunks,
  generateIdentity,
} from '@hearth/crypto';

const MiB = 1024 * 1024;
const AAD = 'hearth:file:srv_bench:fil_bench';
const PIECE = 64 * 1024; // what an HTTP body or a row stream typically hands over at once

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function pieces(input: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; i += PIECE) out.push(input.subarray(i, i + PIECE));
  return out;
}

function sink(check: { bytes: number }): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      check.bytes += chunk.length;
      cb();
    },
  });
}

function raw(input: Buffer, key: Buffer): void {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const ct = c.update(input);
  c.final();
  const tag = c.getAuthTag();
  const d = createDecipheriv('aes-256-gcm', key, iv);
  d.setAuthTag(tag);
  const pt = d.update(ct);
  d.final();
  if (pt.length !== input.length) throw new Error('raw round trip failed');
}

async function chunkStreams(input: Buffer, key: Buffer, chunkSize: number): Promise<void> {
  const seen = { bytes: 0 };
  await pipeline(
    Readable.from(pieces(input)),
    createEncryptStream(key, AAD, chunkSize),
    createDecryptStream(key, AAD),
    sink(seen),
  );
  if (seen.bytes !== input.length) throw new Error('stream round trip failed');
}

function chunksInMemory(input: Buffer, key: Buffer, chunkSize: number): void {
  const out = decryptChunks(key, AAD, encryptChunks(key, AAD, input, chunkSize));
  if (out.length !== input.length) throw new Error('chunk round trip failed');
}

const identity = generateIdentity();
async function envelopeStreams(input: Buffer, chunkSize: number): Promise<void> {
  const seen = { bytes: 0 };
  await pipeline(
    Readable.from(pieces(input)),
    createEnvelopeEncryptStream(identity.publicKey, { chunkSize }),
    createEnvelopeDecryptStream(identity.privateKey),
    sink(seen),
  );
  if (seen.bytes !== input.length) throw new Error('envelope round trip failed');
}

/** Seconds for `reps` runs of fn. */
async function time(reps: number, fn: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function row(cells: Array<string | number>): string {
  return cells.map((c, i) => (i === 0 ? String(c).padEnd(34) : String(c).padStart(11))).join('');
}

/**
 * Raw and candidate run alternately within each round, which goes first alternating by round, so both see the
 * same machine load (this box is shared); figures are medians over rounds, the ratio is the median of per-round
 * ratios.
 */
async function compare(
  name: string,
  input: Buffer,
  rounds: number,
  key: Buffer,
  fn: () => unknown,
): Promise<void> {
  const reps = Math.max(1, Math.floor((32 * MiB) / input.length));
  const mib = (input.length * reps) / MiB;
  await fn();
  raw(input, key);
  const rawRates: number[] = [];
  const rates: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const timeRaw = async () => mib / (await time(reps, () => raw(input, key)));
    const timeCandidate = async () => mib / (await time(reps, fn));
    let rawRate: number;
    let rate: number;
    if (r % 2 === 0) {
      rawRate = await timeRaw();
      rate = await timeCandidate();
    } else {
      rate = await timeCandidate();
      rawRate = await timeRaw();
    }
    rawRates.push(rawRate);
    rates.push(rate);
    ratios.push(rate / rawRate);
  }
  console.log(
    row([
      name,
      `${input.length / MiB} MiB`,
      median(rates).toFixed(0),
      median(rawRates).toFixed(0),
      median(ratios).toFixed(2),
    ]),
  );
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 7);
  const key = randomBytes(32);
  console.log(`node ${process.version}, ${rounds} rounds, medians; encrypt+decrypt, MiB/s of plaintext`);
  console.log(
    `default chunk size ${DEFAULT_CHUNK_SIZE / 1024} KiB; input written in ${PIECE / 1024} KiB pieces`,
  );
  console.log('raw = one-shot node:crypto AES-256-GCM encrypt + decrypt of the whole object\n');
  console.log(row(['case', 'object', 'MiB/s', 'raw MiB/s', 'ratio']));
  const kib = (n: number): string => `${n / 1024} KiB`;
  for (const size of [1 * MiB, 64 * MiB]) {
    const input = randomBytes(size);
    for (const chunkSize of [
      DEFAULT_CHUNK_SIZE,
      ...(process.argv[3] === 'sweep' ? [16 * 1024, 256 * 1024, 1024 * 1024] : []),
    ]) {
      await compare(`chunk streams (${kib(chunkSize)})`, input, rounds, key, () =>
        chunkStreams(input, key, chunkSize),
      );
      await compare(`chunks in memory (${kib(chunkSize)})`, input, rounds, key, () =>
        chunksInMemory(input, key, chunkSize),
      );
      await compare(`HEV1 envelope streams (${kib(chunkSize)})`, input, rounds, key, () =>
        envelopeStreams(input, chunkSize),
      );
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
