import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OperationEntity } from '@hearth/db';
import type { PermissionCheckRequest, PermissionDecision } from '@hearth/permissions';
import { OperationQueue, type RunOperationPayload } from '@hearth/queue';
import type { Queue } from 'bullmq';
import type Redis from 'ioredis';
import type { AuthenticatedApiKey } from '../auth/auth.types';
import {
  mediumGateway,
  type MediumGateway,
  seedFile,
  type Tenant,
  problem,
} from '../../../../test/support/medium';
import { Chain } from '../chain/chain.module';
import { REDIS } from '../infra/infra.module';
import { MetricsModule } from '../metrics/metrics.module';
import { OperationsModule } from './operations.module';
import { OperationsService } from './operations.service';

/** The permission check faked per test: allowed unless a test says otherwise; every request is kept. */
const checks: PermissionCheckRequest[] = [];
let decision: PermissionDecision = { allowed: true, blockNumber: 1n };
const fakeChain = {
  checker: {
    check: async (req: PermissionCheckRequest): Promise<PermissionDecision> => {
      checks.push(req);
      return decision;
    },
  },
};

describe('OperationsService (real Postgres and Redis queue, chain faked)', () => {
  let gw: MediumGateway;
  let operations: OperationsService;
  let queue: Queue<RunOperationPayload>;
  let a: Tenant;
  let b: Tenant;
  let keyA: AuthenticatedApiKey;
  let keyB: AuthenticatedApiKey;
  let fileA: string;
  let fileB: string;

  before(async () => {
    gw = await mediumGateway({
      imports: [MetricsModule, OperationsModule],
      override: (builder) => builder.overrideProvider(Chain).useValue(fakeChain),
    });
    operations = gw.get(OperationsService);
    queue = gw.get(OperationQueue).queue as Queue<RunOperationPayload>;
    [a, b] = await Promise.all([gw.tenant(), gw.tenant()]);
    [keyA, keyB] = await Promise.all([gw.apiKey(a.server), gw.apiKey(b.server)]);
    fileA = (await seedFile(gw.dataSource, a.server.id)).id;
    fileB = (await seedFile(gw.dataSource, b.server.id)).id;
  });
  after(async () => {
    await queue.obliterate({ force: true });
    const redis = gw.get<Redis>(REDIS);
    const left = await redis.keys(`${gw.config.QUEUE_PREFIX}:*`);
    if (left.length) await redis.del(...left);
    await gw.close();
  });
  beforeEach(() => {
    decision = { allowed: true, blockNumber: 1n };
    checks.length = 0;
  });

  const body = (fileId: string, extra: Record<string, unknown> = {}) => ({
    operation: 'summarize',
    fileIds: [fileId],
    parameters: {},
    grantId: '1',
    ...extra,
  });
  const rowsOf = (serverId: string) => gw.dataSource.getRepository(OperationEntity).countBy({ serverId });

  it('checks the grant, records the operation queued and enqueues a job carrying ids only', async () => {
    const { view, replayed } = await operations.create(keyA, body(fileA), null);
    assert.equal(replayed, false);
    assert.deepEqual(
      [view.status, view.serverId, view.operation, view.fileIds],
      ['queued', a.server.id, 'summarize', [fileA]],
    );
    assert.deepEqual(
      checks.map((c) => [c.serverId, c.grantee, c.grantId, c.fileIds]),
      [[a.server.id, keyA.appAddress, '1', [fileA]]],
    );
    const job = await queue.getJob(view.id);
    assert.deepEqual(job?.data, { operationId: view.id, serverId: a.server.id });
    assert.equal((await operations.get(keyA, view.id)).id, view.id);
    assert.ok((await operations.list(keyA, { limit: 10 })).items.some((o) => o.id === view.id));
  });

  it('answers a repeated Idempotency-Key with the same operation, and 422 for another body', async () => {
    const first = await operations.create(keyA, body(fileA), 'idem-1');
    const again = await operations.create(keyA, body(fileA), 'idem-1');
    assert.deepEqual([again.replayed, again.view.id], [true, first.view.id]);
    const other = await problem(operations.create(keyA, body(fileA, { operation: 'stats' }), 'idem-1'));
    assert.equal(other.status, 422);
  });

  it('records nothing when the permission contract denies', async () => {
    const before = await rowsOf(a.server.id);
    decision = { allowed: false, code: 'operation_not_granted' };
    const denied = await problem(operations.create(keyA, body(fileA), null));
    assert.deepEqual([denied.status, denied.errors?.[0]?.field], [403, 'operation']);
    decision = { allowed: false, code: 'chain_unavailable' };
    assert.equal((await problem(operations.create(keyA, body(fileA), null))).status, 503);
    assert.equal(await rowsOf(a.server.id), before);
  });

  it('cancels a queued operation (its job leaves the queue) once', async () => {
    const { view } = await operations.create(keyA, body(fileA), null);
    const cancelled = await operations.cancel(keyA, view.id);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(await queue.getJob(view.id), undefined);
    assert.equal((await problem(operations.cancel(keyA, view.id))).status, 409);
  });

  it("cross-tenant: B's key can neither use A's files nor see, list or cancel A's operations", async () => {
    const beforeB = await rowsOf(b.server.id);
    const foreign = await problem(operations.create(keyB, body(fileA), null));
    assert.deepEqual([foreign.status, foreign.errors?.map((e) => e.field)], [404, ['fileIds.0']]);
    assert.equal(checks.length, 0, 'refused before asking the chain');
    assert.equal(await rowsOf(b.server.id), beforeB);
    const { view } = await operations.create(keyA, body(fileA), 'shared-key');
    assert.equal((await problem(operations.get(keyB, view.id))).status, 404);
    assert.equal((await problem(operations.cancel(keyB, view.id))).status, 404);
    assert.equal((await operations.get(keyA, view.id)).status, 'queued');
    assert.equal(
      (await operations.list(keyB, { limit: 50 })).items.some((o) => o.id === view.id),
      false,
    );
    // The same Idempotency-Key under B's key is B's own operation.
    const mine = await operations.create(keyB, body(fileB), 'shared-key');
    assert.deepEqual([mine.replayed, mine.view.serverId], [false, b.server.id]);
    assert.notEqual(mine.view.id, view.id);
  });
});
