import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '@hearth/ids';
import { randomBytes } from 'node:crypto';
import {
  type RepositoryTesting,
  repositoryTesting,
  seedApiKey,
  type SeededServer,
  seedOperation,
  seedServer,
  tenantSnapshot,
} from '../testing';
import { AccessLogRepository } from './access-log.repository';
import { EventRepository } from './event.repository';
import { outcomeWithoutResult, OperationRepository } from './operation.repository';
import { WebhookRepository } from './webhook.repository';

describe('EventRepository (real Postgres)', () => {
  let db: RepositoryTesting;
  let events: EventRepository;
  let ops: OperationRepository;
  let accessLog: AccessLogRepository;
  let webhooks: WebhookRepository;
  let a: SeededServer;
  let b: SeededServer;

  before(async () => {
    db = await repositoryTesting([
      EventRepository,
      OperationRepository,
      AccessLogRepository,
      WebhookRepository,
    ]);
    events = db.get(EventRepository);
    ops = db.get(OperationRepository);
    accessLog = db.get(AccessLogRepository);
    webhooks = db.get(WebhookRepository);
  });
  after(() => db.close());
  beforeEach(async () => {
    a = await seedServer(db.dataSource);
    b = await seedServer(db.dataSource);
  });

  const keyCreated = (apiKeyId: string) =>
    ({ type: 'api_key.created', data: { apiKeyId, appAddress: '0x' + '2'.repeat(40) } }) as const;

  describe('record and list', () => {
    it('lists the server’s events newest first, by type, a page at a time', async () => {
      const first = await events.record(a.server.id, keyCreated('key_1'));
      const second = await events.record(a.server.id, {
        type: 'api_key.revoked',
        data: { apiKeyId: 'key_1' },
      });
      const third = await events.record(a.server.id, keyCreated('key_2'));
      assert.ok(first && second && third);
      const all = await events.list(a.server.id, { limit: 10 });
      assert.deepEqual(
        all.map((e) => e.id),
        [third.id, second.id, first.id],
      );
      assert.deepEqual(all[0].data, { apiKeyId: 'key_2', appAddress: '0x' + '2'.repeat(40) });
      const created = await events.list(a.server.id, { limit: 10, type: 'api_key.created' });
      assert.deepEqual(
        created.map((e) => e.id),
        [third.id, first.id],
      );
      const page = await events.list(a.server.id, { limit: 1, cursor: third.id });
      assert.deepEqual(
        page.map((e) => e.id),
        [second.id, first.id],
        'limit + 1 rows after the cursor',
      );
    });

    it('cross-tenant: B never lists A’s events, and recording for B leaves A alone', async () => {
      await events.record(a.server.id, keyCreated('key_a'));
      const before = await tenantSnapshot(db.dataSource, a.server.id);
      await events.record(b.server.id, keyCreated('key_b'));
      assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before);
      const listed = await events.list(b.server.id, { limit: 10 });
      assert.deepEqual(
        listed.map((e) => e.data.apiKeyId),
        ['key_b'],
      );
      const aEvent = (await events.list(a.server.id, { limit: 1 }))[0];
      assert.equal(await events.find(b.server.id, aEvent.id), null);
      assert.equal((await events.find(a.server.id, aEvent.id))?.type, 'api_key.created');
    });

    it('records a fact with a dedupe key once per server, and nothing for a server that does not exist', async () => {
      assert.ok(await events.record(a.server.id, keyCreated('k'), 'once'));
      assert.equal(await events.record(a.server.id, keyCreated('k'), 'once'), null);
      assert.ok(await events.record(b.server.id, keyCreated('k'), 'once'), 'another server’s key is its own');
      assert.equal(await events.record(newId('srv'), keyCreated('k')), null);
    });
  });

  describe('recorded with operation outcomes', () => {
    it('finish records operation.succeeded in the same statement, exactly once', async () => {
      const key = await seedApiKey(db.dataSource, a.server.id);
      const op = await seedOperation(db.dataSource, a.server.id, key.id, { status: 'running' });
      const outcome = { ...outcomeWithoutResult('x', 'y'), status: 'succeeded' as const, errorCode: null };
      assert.ok(await ops.finish(a.server.id, op, outcome));
      assert.equal(await ops.finish(a.server.id, op, outcome), null);
      const listed = await events.list(a.server.id, { limit: 10 });
      assert.equal(listed.length, 1);
      assert.equal(listed[0].type, 'operation.succeeded');
      assert.deepEqual(listed[0].data, {
        operationId: op.id,
        operation: 'word_count',
        appAddress: op.appAddress,
        apiKeyId: key.id,
        grantId: null,
        code: null,
      });
    });

    it('a finish that does not apply (another tenant, not running) records nothing', async () => {
      const key = await seedApiKey(db.dataSource, a.server.id);
      const op = await seedOperation(db.dataSource, a.server.id, key.id, { status: 'queued' });
      assert.equal(await ops.finish(a.server.id, op, outcomeWithoutResult('x', 'y')), null);
      assert.equal(await ops.abandon(b.server.id, op.id, 'lost_in_queue', 'gone'), false);
      assert.deepEqual(await events.list(a.server.id, { limit: 10 }), []);
      assert.deepEqual(await events.list(b.server.id, { limit: 10 }), []);
      assert.equal(await ops.abandon(a.server.id, op.id, 'lost_in_queue', 'gone'), true);
      const [failed] = await events.list(a.server.id, { limit: 10 });
      assert.equal(failed.type, 'operation.failed');
      assert.equal(failed.data.code, 'lost_in_queue');
    });

    it('a denial for an expired grant records operation.denied each time and grant.expired once per grant', async () => {
      const key = await seedApiKey(db.dataSource, a.server.id);
      for (let i = 0; i < 2; i++) {
        const op = await seedOperation(db.dataSource, a.server.id, key.id, { status: 'running' });
        await db.dataSource.query(`UPDATE operations SET grant_id = '9' WHERE id = $1`, [op.id]);
        const denied = outcomeWithoutResult('grant_expired', 'expired', 'denied');
        assert.ok(await ops.finish(a.server.id, op, denied));
      }
      const types = (await events.list(a.server.id, { limit: 10 })).map((e) => e.type).sort();
      assert.deepEqual(types, ['grant.expired', 'operation.denied', 'operation.denied']);
      const [expired] = await events.list(a.server.id, { limit: 10, type: 'grant.expired' });
      assert.equal(expired.data.grantId, '9');
    });

    it('an access-log refusal records operation.denied; a read records nothing', async () => {
      const entry = {
        operationId: null,
        actor: '0x' + '3'.repeat(40),
        apiKeyId: 'key_x',
        grantId: '4',
        operation: 'summarize',
        fileIds: [],
        code: 'grant_expired',
        blockNumber: null,
        receiptHash: null,
      };
      await accessLog.append(a.server.id, { ...entry, outcome: 'read', code: null });
      assert.deepEqual(await events.list(a.server.id, { limit: 10 }), []);
      await accessLog.append(a.server.id, { ...entry, outcome: 'denied' });
      const listed = await events.list(a.server.id, { limit: 10 });
      assert.deepEqual(listed.map((e) => e.type).sort(), ['grant.expired', 'operation.denied']);
      const denied = listed.find((e) => e.type === 'operation.denied');
      assert.deepEqual(denied?.data, {
        operationId: null,
        operation: 'summarize',
        appAddress: entry.actor,
        apiKeyId: 'key_x',
        grantId: '4',
        code: 'grant_expired',
      });
      assert.deepEqual(await events.list(b.server.id, { limit: 10 }), [], 'cross-tenant: nothing for B');
    });
  });

  describe('the dispatcher’s sweep', () => {
    it('pairs each undispatched event with the webhooks that take it, then marks it dispatched', async () => {
      const hook = (server: SeededServer, types: string[] | null) =>
        webhooks.create(server.server.id, {
          id: newId('whk'),
          url: 'https://example.com/hook',
          events: types,
          sealedSecret: randomBytes(40),
        });
      const all = await hook(a, null);
      const keysOnly = await hook(a, ['api_key.created']);
      const grantsOnly = await hook(a, ['grant.added']);
      const disabled = await hook(a, null);
      const otherTenant = await hook(b, null);
      assert.ok(all && keysOnly && grantsOnly && disabled && otherTenant);
      await db.dataSource.query(`UPDATE webhooks SET status = 'disabled' WHERE id = $1`, [disabled.id]);
      const event = await events.record(a.server.id, keyCreated('k'));
      const late = await hook(a, null);
      assert.ok(event && late);
      const swept = (await events.listUndispatched('hearth', 10_000)).find((e) => e.id === event.id);
      assert.ok(swept);
      assert.equal(swept.serverId, a.server.id);
      assert.deepEqual(swept.webhookIds, [all.id, keysOnly.id].sort());
      assert.equal(await events.markDispatched([event.id]), 1);
      assert.equal(await events.markDispatched([event.id]), 0, 'once');
      assert.equal(
        (await events.listUndispatched('hearth', 10_000)).find((e) => e.id === event.id),
        undefined,
      );
    });

    it('leaves an event to the queue of its server’s webhooks; one no webhook takes goes to any queue', async () => {
      const hooked = await webhooks.create(a.server.id, {
        id: newId('whk'),
        url: 'https://example.com/hook',
        events: null,
        sealedSecret: randomBytes(40),
        queuePrefix: 'other-queue',
      });
      assert.ok(hooked);
      const theirs = await events.record(a.server.id, keyCreated('k'));
      const unhooked = await events.record(b.server.id, keyCreated('k'));
      assert.ok(theirs && unhooked);
      const mine = await events.listUndispatched('hearth', 10_000);
      assert.equal(
        mine.find((e) => e.id === theirs.id),
        undefined,
        'another queue’s webhook',
      );
      assert.deepEqual(mine.find((e) => e.id === unhooked.id)?.webhookIds, []);
      const other = await events.listUndispatched('other-queue', 10_000);
      assert.deepEqual(other.find((e) => e.id === theirs.id)?.webhookIds, [hooked.id]);
    });
  });
});
