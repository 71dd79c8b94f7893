import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '@hearth/ids';
import { randomBytes } from 'node:crypto';
import type { ApiKeyEntity } from '../entities/api-key.entity';
import {
  type RepositoryTesting,
  repositoryTesting,
  seedApiKey,
  type SeededServer,
  seedFile,
  seedOperation,
  seedServer,
  tenantSnapshot,
} from '../testing';
import {
  INLINE_CHUNKS,
  type NewOperationInput,
  OperationRepository,
  type OperationOutcome,
} from './operation.repository';

const SEALED_PARAMETERS = randomBytes(40);

function input(apiKeyId: string, extra: Partial<NewOperationInput> = {}): NewOperationInput {
  return {
    id: newId('op'),
    apiKeyId,
    appAddress: '0x' + '1'.repeat(40),
    operation: 'word_count',
    operationVersion: '1',
    sealedParameters: SEALED_PARAMETERS,
    fileIds: [],
    grantId: '7',
    idempotencyKey: null,
    requestHash: randomBytes(32).toString('hex'),
    ...extra,
  };
}

const succeeded: OperationOutcome = {
  status: 'succeeded',
  errorCode: null,
  errorDetail: null,
  resultCiphertext: Buffer.from('sealed'),
  resultWrappedKey: Buffer.from('wrapped'),
  resultExpiresAt: new Date(Date.now() + 3600_000),
  receipt: { ok: true },
  receiptHash: '0xabc',
  blockNumber: '12',
  timings: { engineMs: 3 },
  computeMs: 25,
  inputBytes: 1000,
  decrypted: true,
};

describe('OperationRepository (real Postgres)', () => {
  let db: RepositoryTesting;
  let ops: OperationRepository;
  let a: SeededServer;
  let b: SeededServer;
  let keyA: ApiKeyEntity;
  let keyB: ApiKeyEntity;

  before(async () => {
    db = await repositoryTesting([OperationRepository]);
    ops = db.get(OperationRepository);
  });
  after(() => db.close());
  beforeEach(async () => {
    a = await seedServer(db.dataSource);
    b = await seedServer(db.dataSource);
    keyA = await seedApiKey(db.dataSource, a.server.id);
    keyB = await seedApiKey(db.dataSource, b.server.id);
  });

  const snapshotA = () => tenantSnapshot(db.dataSource, a.server.id);

  describe('createIdempotent and findIdempotent', () => {
    it('creates a queued operation; the same Idempotency-Key answers with it again', async () => {
      const first = await ops.createIdempotent(a.server.id, input(keyA.id, { idempotencyKey: 'k1' }));
      assert.equal(first.created, true);
      assert.equal(first.operation.status, 'queued');
      assert.equal(first.operation.serverId, a.server.id);
      assert.deepEqual(first.operation.sealedParameters, SEALED_PARAMETERS);
      const again = await ops.createIdempotent(a.server.id, input(keyA.id, { idempotencyKey: 'k1' }));
      assert.deepEqual([again.created, again.operation.id], [false, first.operation.id]);
      assert.equal((await ops.findIdempotent(a.server.id, keyA.id, 'k1'))?.id, first.operation.id);
      assert.equal(await ops.findIdempotent(a.server.id, keyA.id, 'k2'), null);
      // Concurrent requests with one key: one row, the others get it.
      const racing = await Promise.all(
        [1, 2, 3].map(() => ops.createIdempotent(a.server.id, input(keyA.id, { idempotencyKey: 'k3' }))),
      );
      assert.equal(racing.filter((r) => r.created).length, 1);
      assert.equal(new Set(racing.map((r) => r.operation.id)).size, 1);
    });

    it("cross-tenant: B's id never answers with A's operation, nor writes into A", async () => {
      const opA = await seedOperation(db.dataSource, a.server.id, keyA.id, { idempotencyKey: 'same' });
      assert.equal(await ops.findIdempotent(b.server.id, keyA.id, 'same'), null);
      const before = await snapshotA();
      // A's key and Idempotency-Key named under B: refused by the unique index, never A's row handed out.
      await assert.rejects(ops.createIdempotent(b.server.id, input(keyA.id, { idempotencyKey: 'same' })));
      assert.deepEqual(await snapshotA(), before);
      const created = await ops.createIdempotent(b.server.id, input(keyB.id, { idempotencyKey: 'same' }));
      assert.equal(created.created, true);
      assert.notEqual(created.operation.id, opA.id);
      assert.deepEqual(await snapshotA(), before);
    });
  });

  describe('findForApiKey and findById', () => {
    it("finds the key's own operation; another key of the server does not see it", async () => {
      const op = await seedOperation(db.dataSource, a.server.id, keyA.id);
      const otherKey = await seedApiKey(db.dataSource, a.server.id);
      assert.equal((await ops.findForApiKey(a.server.id, keyA.id, op.id))?.id, op.id);
      assert.equal(await ops.findForApiKey(a.server.id, otherKey.id, op.id), null);
      assert.equal((await ops.findById(a.server.id, op.id))?.id, op.id);
    });

    it("cross-tenant: B's id never finds A's operation", async () => {
      const op = await seedOperation(db.dataSource, a.server.id, keyA.id);
      assert.equal(await ops.findForApiKey(b.server.id, keyA.id, op.id), null);
      assert.equal(await ops.findById(b.server.id, op.id), null);
    });
  });

  describe('listForApiKey', () => {
    it('lists newest first, after a cursor, in one status', async () => {
      const o1 = await seedOperation(db.dataSource, a.server.id, keyA.id, { status: 'succeeded' });
      const o2 = await seedOperation(db.dataSource, a.server.id, keyA.id);
      const o3 = await seedOperation(db.dataSource, a.server.id, keyA.id);
      const ids = (rows: Array<{ id: string }>) => rows.map((r) => r.id);
      assert.deepEqual(ids(await ops.listForApiKey(a.server.id, keyA.id, { limit: 2 })), [o3.id, o2.id]);
      assert.deepEqual(ids(await ops.listForApiKey(a.server.id, keyA.id, { limit: 5, cursor: o2.id })), [
        o1.id,
      ]);
      assert.deepEqual(
        ids(await ops.listForApiKey(a.server.id, keyA.id, { limit: 5, status: 'succeeded' })),
        [o1.id],
      );
    });

    it("cross-tenant: B's id lists none of A's operations", async () => {
      await seedOperation(db.dataSource, a.server.id, keyA.id);
      assert.deepEqual(await ops.listForApiKey(b.server.id, keyA.id, { limit: 5 }), []);
    });
  });

  describe('claim', () => {
    it('marks a queued operation running (attempts + 1), not an ended one', async () => {
      const op = await seedOperation(db.dataSource, a.server.id, keyA.id);
      const claimed = await ops.claim(a.server.id, op.id);
      assert.deepEqual([claimed?.status, claimed?.attempts], ['running', 1]);
      assert.ok(claimed?.startedAt instanceof Date);
      const ended = await seedOperation(db.dataSource, a.server.id, keyA.id, { status: 'cancelled' });
      assert.equal(await ops.claim(a.server.id, ended.id), null);
    });

    it("cross-tenant: B's id claims nothing of A", async () => {
      const op = await seedOperation(db.dataSource, a.server.id, keyA.id);
      const before = await snapshotA();
      assert.equal(await ops.claim(b.server.id, op.id), null);
      assert.deepEqual(await snapshotA(), before);
    });
  });

  describe('loadRunInput', () => {
    it('loads the server and its ready files, small ones with their chunks inline', async () => {
      const small = await seedFile(db.dataSource, a.server.id, {
        chunks: [Buffer.from('one'), Buffer.from('two')],
      });
      const big = await seedFile(db.dataSource, a.server.id, {
        chunks: Array.from({ length: INLINE_CHUNKS + 1 }, (_, i) => Buffer.from(String(i))),
      });
      const uploading = await seedFile(db.dataSource, a.server.id, { status: 'uploading' });
      const loaded = await ops.loadRunInput(a.server.id, [small.id, big.id, uploading.id]);
      assert.ok(loaded);
      assert.equal(loaded.server.id, a.server.id);
      assert.ok(loaded.server.wrappedIdentityKey.equals(a.server.wrappedIdentityKey));
      const byId = new Map(loaded.files.map((f) => [f.id, f]));
      assert.deepEqual([...byId.keys()].sort(), [small.id, big.id].sort());
      assert.deepEqual(
        byId.get(small.id)?.chunks?.map((c) => c.toString()),
        ['one', 'two'],
      );
      assert.equal(byId.get(big.id)?.chunks, null);
      assert.equal(await ops.loadRunInput(newId('srv'), [small.id]), null);
    });

    it('past maxInputBytes it sums the recorded sizes and loads no file', async () => {
      const one = await seedFile(db.dataSource, a.server.id, { size: 600 });
      const two = await seedFile(db.dataSource, a.server.id, { size: 500 });
      const over = await ops.loadRunInput(a.server.id, [one.id, two.id], 1000);
      assert.equal(over?.inputBytes, 1100);
      assert.deepEqual(over?.files, []);
      const within = await ops.loadRunInput(a.server.id, [one.id, two.id], 1100);
      assert.equal(within?.inputBytes, 1100);
      assert.deepEqual(within?.files.map((f) => f.id).sort(), [one.id, two.id].sort());
    });

    it("cross-tenant: B's id loads B's server and none of A's files", async () => {
      const fileA = await seedFile(db.dataSource, a.server.id, { size: 5000 });
      const loaded = await ops.loadRunInput(b.server.id, [fileA.id], 1000);
      assert.equal(loaded?.server.id, b.server.id);
      assert.deepEqual(loaded?.files, []);
      assert.equal(loaded?.inputBytes, 0, "A's sizes do not count on B");
    });
  });

  describe('cancelQueued', () => {
    it('cancels a queued operation only', async () => {
      const op = await seedOperation(db.dataSource, a.server.id, keyA.id);
      assert.equal(await ops.cancelQueued(a.server.id, op.id), true);
      const cancelled = await ops.findById(a.server.id, op.id);
      assert.deepEqual([cancelled?.status, cancelled?.errorCode], ['cancelled', 'cancelled']);
      assert.equal(await ops.cancelQueued(a.server.id, op.id), false);
    });

    it("cross-tenant: B's id cancels nothing of A", async () => {
      const op = await seedOperation(db.dataSource, a.server.id, keyA.id);
      const before = await snapshotA();
      assert.equal(await ops.cancelQueued(b.server.id, op.id), false);
      assert.deepEqual(await snapshotA(), before);
    });
  });

  describe('finish', () => {
    it('records the outcome, its access-log row and usage once, for a running operation only', async () => {
      const op = await seedOperation(db.dataSource, a.server.id, keyA.id, { status: 'running' });
      assert.ok(await ops.finish(a.server.id, op, succeeded));
      assert.equal(await ops.finish(a.server.id, op, succeeded), null, 'exactly once');
      const done = await ops.findById(a.server.id, op.id);
      assert.equal(done?.status, 'succeeded');
      assert.deepEqual(done?.receipt, { ok: true });
      const rows = await snapshotA();
      assert.equal(rows.access_log.length, 1);
      assert.deepEqual(
        (rows.usage_daily as Array<{ operations: number; compute_ms: string; input_bytes: string }>).map(
          (u) => [u.operations, u.compute_ms, u.input_bytes],
        ),
        [[1, '25', '1000']],
      );
      const queued = await seedOperation(db.dataSource, a.server.id, keyA.id);
      assert.equal(await ops.finish(a.server.id, queued, succeeded), null, 'not running');
    });

    it("cross-tenant: B's id finishes nothing of A and logs nothing", async () => {
      const op = await seedOperation(db.dataSource, a.server.id, keyA.id, { status: 'running' });
      const before = await snapshotA();
      assert.equal(await ops.finish(b.server.id, op, succeeded), null);
      assert.deepEqual(await snapshotA(), before);
      const rowsB = await tenantSnapshot(db.dataSource, b.server.id);
      assert.deepEqual([rowsB.access_log.length, rowsB.usage_daily.length], [0, 0]);
    });
  });

  describe('abandon', () => {
    it('ends a queued or running operation failed with its code and access-log row, once', async () => {
      for (const status of ['queued', 'running'] as const) {
        const op = await seedOperation(db.dataSource, a.server.id, keyA.id, { status });
        assert.equal(await ops.abandon(a.server.id, op.id, 'lost_in_queue', 'gone'), true);
        assert.equal(await ops.abandon(a.server.id, op.id, 'lost_in_queue', 'gone'), false, 'exactly once');
        const done = await ops.findById(a.server.id, op.id);
        assert.deepEqual(
          [done?.status, done?.errorCode, done?.errorDetail],
          ['failed', 'lost_in_queue', 'gone'],
        );
      }
      const rows = await snapshotA();
      assert.deepEqual(
        (rows.access_log as Array<{ outcome: string; code: string }>).map((r) => [r.outcome, r.code]),
        [
          ['failed', 'lost_in_queue'],
          ['failed', 'lost_in_queue'],
        ],
      );
      const finished = await seedOperation(db.dataSource, a.server.id, keyA.id, { status: 'succeeded' });
      assert.equal(
        await ops.abandon(a.server.id, finished.id, 'lost_in_queue', 'x'),
        false,
        'finished stays',
      );
    });

    it("cross-tenant: B's id ends nothing of A", async () => {
      const op = await seedOperation(db.dataSource, a.server.id, keyA.id);
      const before = await snapshotA();
      assert.equal(await ops.abandon(b.server.id, op.id, 'lost_in_queue', 'x'), false);
      assert.deepEqual(await snapshotA(), before);
    });
  });

  describe('listUnfinished and countRequeue', () => {
    it("lists the queue's unfinished operations older than the cut-off, oldest first, every server's", async () => {
      const queuePrefix = `q-${randomBytes(6).toString('hex')}`;
      const first = await ops.createIdempotent(a.server.id, input(keyA.id, { queuePrefix }));
      const second = await ops.createIdempotent(b.server.id, input(keyB.id, { queuePrefix }));
      const elsewhere = await ops.createIdempotent(
        a.server.id,
        input(keyA.id, { queuePrefix: `${queuePrefix}x` }),
      );
      const done = await ops.createIdempotent(a.server.id, input(keyA.id, { queuePrefix }));
      await ops.abandon(a.server.id, done.operation.id, 'lost_in_queue', 'x');
      const cutoff = new Date(Date.now() + 60_000);
      const listed = await ops.listUnfinished(queuePrefix, cutoff, 10);
      assert.deepEqual(
        listed.map((o) => [o.id, o.serverId, o.status, o.requeues]),
        [
          [first.operation.id, a.server.id, 'queued', 0],
          [second.operation.id, b.server.id, 'queued', 0],
        ],
      );
      assert.ok(
        !listed.some((o) => o.id === elsewhere.operation.id),
        "another queue's operation is not listed",
      );
      assert.deepEqual(
        await ops.listUnfinished(queuePrefix, new Date(Date.now() - 60_000), 10),
        [],
        'too young',
      );
      assert.equal((await ops.listUnfinished(queuePrefix, cutoff, 1)).length, 1);
    });

    it('counts re-queues up to the budget, then says exhausted; a finished one is left alone', async () => {
      const op = await seedOperation(db.dataSource, a.server.id, keyA.id);
      assert.equal(await ops.countRequeue(a.server.id, op.id, 2), 'requeue');
      assert.equal(await ops.countRequeue(a.server.id, op.id, 2), 'requeue');
      assert.equal(await ops.countRequeue(a.server.id, op.id, 2), 'exhausted');
      assert.equal((await ops.findById(a.server.id, op.id))?.requeues, 2);
      await ops.abandon(a.server.id, op.id, 'lost_in_queue', 'x');
      assert.equal(await ops.countRequeue(a.server.id, op.id, 5), 'finished');
    });

    it("cross-tenant: B's id counts nothing of A", async () => {
      const op = await seedOperation(db.dataSource, a.server.id, keyA.id);
      const before = await snapshotA();
      assert.equal(await ops.countRequeue(b.server.id, op.id, 5), 'finished');
      assert.deepEqual(await snapshotA(), before);
    });
  });

  describe('deleteUnqueued', () => {
    it('removes the operation', async () => {
      const op = await seedOperation(db.dataSource, a.server.id, keyA.id);
      assert.equal(await ops.deleteUnqueued(a.server.id, op.id), true);
      assert.equal(await ops.findById(a.server.id, op.id), null);
      assert.equal(await ops.deleteUnqueued(a.server.id, op.id), false);
    });

    it("cross-tenant: B's id deletes nothing of A", async () => {
      const op = await seedOperation(db.dataSource, a.server.id, keyA.id);
      const before = await snapshotA();
      assert.equal(await ops.deleteUnqueued(b.server.id, op.id), false);
      assert.deepEqual(await snapshotA(), before);
    });
  });

  describe('purgeExpiredResults', () => {
    it("drops every server's expired results and keeps results still in time, receipts kept", async () => {
      const past = new Date(Date.now() - 1000);
      const future = new Date(Date.now() + 3600_000);
      const expiredA = await seedOperation(db.dataSource, a.server.id, keyA.id, {
        status: 'succeeded',
        resultCiphertext: Buffer.from('a'),
        resultExpiresAt: past,
        receipt: { a: 1 },
      });
      const liveA = await seedOperation(db.dataSource, a.server.id, keyA.id, {
        status: 'succeeded',
        resultCiphertext: Buffer.from('b'),
        resultExpiresAt: future,
      });
      const expiredB = await seedOperation(db.dataSource, b.server.id, keyB.id, {
        status: 'succeeded',
        resultCiphertext: Buffer.from('c'),
        resultExpiresAt: past,
      });
      assert.ok((await ops.purgeExpiredResults()) >= 2);
      const [ea, la, eb] = await Promise.all([
        ops.findById(a.server.id, expiredA.id),
        ops.findById(a.server.id, liveA.id),
        ops.findById(b.server.id, expiredB.id),
      ]);
      assert.deepEqual(
        [ea?.resultCiphertext, ea?.resultWrappedKey, eb?.resultCiphertext],
        [null, null, null],
      );
      assert.deepEqual(ea?.receipt, { a: 1 });
      assert.equal(la?.resultCiphertext?.toString(), 'b');
    });
  });
});
