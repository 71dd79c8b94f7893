import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { type RunningGateway, type RunningWorker, startGateway, startWorker } from './support/apps';
import {
  type App,
  grant,
  json,
  newApp,
  newTenant,
  relayerFor,
  submit,
  type Tenant,
  uploadText,
} from './support/flow';

/*
 * Fairness between tenants: a job's priority is its tenant's backlog when it arrives, so a flood from one
 * tenant queues behind itself and a quiet tenant's jobs go ahead of it. Tenant A floods; while the worker
 * (concurrency 2) drains the flood, tenant B submits three operations, which must finish long before the
 * flood does.
 */

const FLOOD = 60;
const QUIET = 3;
// Its own queue: test files run in parallel and another file's worker must not take these jobs.
const QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'hearth-test'}-fairness`;
const TEXT =
  'The river was high this morning. I walked the dog, wrote two letters and fixed the gate. Later it rained.';

/**
 * Test files run in parallel and relay grants from the same dev relayer account: two relays at once can race
 * on the transaction nonce (nothing reaches the chain then), so a nonce clash is retried.
 */
async function grantRetrying(...args: Parameters<typeof grant>): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await grant(...args);
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : '';
      if (attempt >= 5 || !/nonce/i.test(cause)) throw err;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}

interface Party {
  tenant: Tenant;
  app: App;
  fileId: string;
  grantId: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fairness between tenants', () => {
  let gw: RunningGateway;
  let worker: RunningWorker | undefined;
  let db: Client;
  let a: Party;
  let b: Party;

  const party = async (): Promise<Party> => {
    const tenant = await newTenant(gw.url);
    const fileId = await uploadText(gw.url, tenant, 'notes.txt', TEXT);
    const app = await newApp(gw.url, tenant, { ratePerMinute: 10_000 });
    const grantId = await grantRetrying(
      relayerFor(gw.config),
      tenant,
      app.account.address,
      ['stats'],
      [fileId],
    );
    return { tenant, app, fileId, grantId };
  };

  const submitMany = async (p: Party, n: number): Promise<string[]> =>
    Promise.all(
      Array.from({ length: n }, async () => {
        const res = await submit(gw.url, p.app, {
          operation: 'stats',
          fileIds: [p.fileId],
          parameters: {},
          grantId: p.grantId,
        });
        assert.equal(res.status, 202, await res.clone().text());
        return (await json<{ id: string }>(res)).id;
      }),
    );

  before(async () => {
    gw = await startGateway({ QUEUE_PREFIX });
    db = new Client({ connectionString: gw.config.DATABASE_URL });
    await db.connect();
    a = await party();
    b = await party();
  });

  after(async () => {
    await worker?.close();
    await db?.end();
    await gw?.close();
  });

  it(
    "a quiet tenant's operations finish long before another tenant's flood drains",
    { timeout: 300_000 },
    async () => {
      // The flood is queued first, so it is a real backlog however fast this machine drains it.
      const floodIds = await submitMany(a, FLOOD);
      worker = await startWorker({ QUEUE_PREFIX, WORKER_CONCURRENCY: '2' });
      // Tenant B arrives while the worker is draining the flood: once both its children have finished a job, so
      // B's latency measures queueing, not the worker's start (children warming up on a busy machine).
      const deadline = Date.now() + 180_000;
      for (;;) {
        const { rows } = await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM operations WHERE id = ANY($1) AND finished_at IS NOT NULL`,
          [floodIds],
        );
        if (Number(rows[0].n) >= 2) break;
        if (Date.now() > deadline) throw new Error('the worker never started on the flood');
        await sleep(20);
      }
      const quietIds = await submitMany(b, QUIET);

      const all = [...floodIds, ...quietIds];
      let rows: Array<{ id: string; status: string; created_at: Date; finished_at: Date | null }> = [];
      for (const end = Date.now() + 240_000; ;) {
        rows = (
          await db.query<{ id: string; status: string; created_at: Date; finished_at: Date | null }>(
            `SELECT id, status, created_at, finished_at FROM operations WHERE id = ANY($1)`,
            [all],
          )
        ).rows;
        if (rows.every((r) => r.finished_at !== null)) break;
        if (Date.now() > end)
          throw new Error(`${rows.filter((r) => r.finished_at === null).length} operations never finished`);
        await sleep(200);
      }
      for (const r of rows) assert.equal(r.status, 'succeeded', r.id);

      const byId = new Map(rows.map((r) => [r.id, r]));
      const floodDone = floodIds.map((id) => byId.get(id)!.finished_at!.getTime()).sort((x, y) => x - y);
      const floodStart = Math.min(...floodIds.map((id) => byId.get(id)!.created_at.getTime()));
      const quiet = quietIds.map((id) => {
        const r = byId.get(id)!;
        const finished = r.finished_at!.getTime();
        return {
          id,
          latencyMs: finished - r.created_at.getTime(),
          floodFinishedBefore: floodDone.filter((t) => t < finished).length,
        };
      });
      const floodLatencies = floodIds
        .map((id) => byId.get(id)!.finished_at!.getTime() - byId.get(id)!.created_at.getTime())
        .sort((x, y) => x - y);
      process.stdout.write(
        `# tenant B latencies (ms): ${quiet.map((q) => q.latencyMs).join(', ')}; ` +
          `A's operations finished before each of B's: ${quiet.map((q) => q.floodFinishedBefore).join(', ')} of ${FLOOD}; ` +
          `A's flood drained in ${floodDone[FLOOD - 1] - floodStart} ms (A median latency ${floodLatencies[FLOOD / 2]} ms)\n`,
      );

      for (const q of quiet) {
        assert.ok(
          q.floodFinishedBefore < FLOOD / 2,
          `B's ${q.id} finished after ${q.floodFinishedBefore} of A's ${FLOOD} operations: it waited for the flood`,
        );
      }
      // Bounded latency: B waits for a handful of jobs, not for the rest of the flood.
      const slowestQuiet = Math.max(...quiet.map((q) => q.latencyMs));
      const floodRemainderAfterB =
        floodDone[FLOOD - 1] - Math.min(...quietIds.map((id) => byId.get(id)!.created_at.getTime()));
      assert.ok(
        slowestQuiet < floodRemainderAfterB / 2,
        `B's slowest (${slowestQuiet} ms) vs the flood's remaining drain (${floodRemainderAfterB} ms)`,
      );
    },
  );
});
