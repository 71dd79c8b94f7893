/**
 * A small file's chunks read inline with the owner's read (FileRepository.findForReader: session, membership,
 * file row and up to READ_INLINE_CHUNKS chunks in one statement) against the streamed path (BlobStore.readChunks,
 * batches of chunk rows), in milliseconds per MiB of sealed bytes. Fresh database; a 16-chunk file (64 KiB
 * chunks, about 1 MiB) read inline, the same file and a 64 MiB file streamed; the cases run in alternating
 * rounds (which goes first alternates too), medians over rounds. Prints figures; not a test.
 *
 *   npm run build && node dist/bench/inline-chunks.bench.js [rounds=9] [reads=40]
 */
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { newId } from '@hearth/ids';
import { BLOB_STORE, FileRepository, READ_INLINE_CHUNKS, runMigrations } from '@hearth/db';
import type { BlobStore } from '@hearth/blobs';
import { repositoryTesting, seedFile, seedServer } from '../libs/db/src/testing';
import { dropDatabase } from '../scripts/lib/services';

const MiB = 1024 * 1024;
const SEALED_CHUNK = 64 * 1024 + 28;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 9);
  const reads = Number(process.argv[3] ?? 40);
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  base.pathname = `/hearth_bench_inline_${Date.now()}_${process.pid}`;
  const url = base.toString();
  await runMigrations(url);
  const db = await repositoryTesting([FileRepository], { DATABASE_URL: url });
  try {
    const ds = db.dataSource;
    const files = db.get(FileRepository);
    const blobs = db.module.get<BlobStore>(BLOB_STORE);
    const { account, server } = await seedServer(ds);
    const token = randomBytes(32);
    const tokenHash = createHash('sha256').update(token).digest();
    await ds.query(
      `INSERT INTO sessions (id, account_id, token_hash, expires_at) VALUES ($1, $2, $3, now() + interval '1 day')`,
      [newId('ses'), account.id, tokenHash],
    );
    const chunks = (n: number): Buffer[] => Array.from({ length: n }, () => randomBytes(SEALED_CHUNK));
    const small = await seedFile(ds, server.id, { chunks: chunks(READ_INLINE_CHUNKS) });
    const large = await seedFile(ds, server.id, { chunks: chunks(1024) });
    await ds.query('VACUUM ANALYZE file_chunks');
    const smallMiB = (READ_INLINE_CHUNKS * SEALED_CHUNK) / MiB;
    const largeMiB = (1024 * SEALED_CHUNK) / MiB;

    const inline = async (): Promise<void> => {
      const found = await files.findForReader(server.id, small.id, tokenHash);
      if (found.found !== 'server' || found.chunks?.length !== READ_INLINE_CHUNKS)
        throw new Error('no inline chunks');
    };
    const streamed = (fileId: string, count: number) => async (): Promise<void> => {
      let n = 0;
      for await (const chunk of blobs.readChunks(server.id, fileId)) n += chunk.length > 0 ? 1 : 0;
      if (n !== count) throw new Error('short read');
    };
    const cases = [
      {
        name: `inline, findForReader (${READ_INLINE_CHUNKS} chunks)`,
        mib: smallMiB,
        reps: reads,
        fn: inline,
      },
      {
        name: `streamed, readChunks (${READ_INLINE_CHUNKS} chunks)`,
        mib: smallMiB,
        reps: reads,
        fn: streamed(small.id, READ_INLINE_CHUNKS),
      },
      { name: 'streamed, readChunks (1024 chunks)', mib: largeMiB, reps: 1, fn: streamed(large.id, 1024) },
    ];
    for (const c of cases) await c.fn(); // warm-up: plans, pool connections
    const msPerMiB = cases.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      const order = cases.map((_, i) => i);
      if (r % 2 === 1) order.reverse();
      for (const i of order) {
        const c = cases[i];
        const start = performance.now();
        for (let k = 0; k < c.reps; k++) await c.fn();
        msPerMiB[i].push((performance.now() - start) / (c.reps * c.mib));
      }
    }
    console.log(
      `node ${process.version}, ${rounds} rounds, median ms per MiB of sealed chunks (rounds in brackets)`,
    );
    for (const [i, c] of cases.entries()) {
      const all = msPerMiB[i].map((x) => x.toFixed(1)).join(' ');
      console.log(`${c.name.padEnd(42)} ${median(msPerMiB[i]).toFixed(2).padStart(8)} ms/MiB   (${all})`);
    }
  } finally {
    await db.close();
    await dropDatabase(url).catch(() => undefined);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
