import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '@hearth/ids';
import { randomBytes } from 'node:crypto';
import {
  type RepositoryTesting,
  repositoryTesting,
  type SeededServer,
  seedServer,
  tenantSnapshot,
} from '../testing';
import { EventRepository } from './event.repository';
import { WebhookRepository } from './webhook.repository';

describe('WebhookRepository (real Postgres)', () => {
  let db: RepositoryTesting;
  let webhooks: WebhookRepository;
  let events: EventRepository;
  let a: SeededServer;
  let b: SeededServer;

  before(async () => {
    db = await repositoryTesting([WebhookRepository, EventRepository]);
    webhooks = db.get(WebhookRepository);
    events = db.get(EventRepository);
  });
  after(() => db.close());
  beforeEach(async () => {
    a = await seedServer(db.dataSource);
    b = await seedServer(db.dataSource);
  });

  async function hook(server: SeededServer) {
    const created = await webhooks.create(server.server.id, {
      id: newId('whk'),
      url: 'https://example.com/hook',
      events: ['api_key.created'],
      sealedSecret: randomBytes(40),
    });
    assert.ok(created);
    return created;
  }

  async function event(server: SeededServer) {
    const recorded = await events.record(server.server.id, {
      type: 'api_key.revoked',
      data: { apiKeyId: 'k' },
    });
    assert.ok(recorded);
    return recorded;
  }

  it('creates, finds, lists and deletes a server’s webhooks; never another server’s', async () => {
    const one = await hook(a);
    const two = await hook(a);
    assert.equal(one.status, 'active');
    assert.equal(one.consecutiveFailures, 0);
    assert.deepEqual(one.events, ['api_key.created']);
    assert.deepEqual(
      (await webhooks.list(a.server.id, { limit: 10 })).map((w) => w.id),
      [one.id, two.id],
    );
    assert.deepEqual(
      (await webhooks.list(a.server.id, { limit: 1, cursor: one.id })).map((w) => w.id),
      [two.id],
    );
    const before = await tenantSnapshot(db.dataSource, a.server.id);
    assert.equal(await webhooks.find(b.server.id, one.id), null);
    assert.deepEqual(await webhooks.list(b.server.id, { limit: 10 }), []);
    assert.equal(await webhooks.delete(b.server.id, one.id), false);
    assert.deepEqual(await tenantSnapshot(db.dataSource, a.server.id), before, 'B changed nothing of A');
    assert.equal(await webhooks.delete(a.server.id, one.id), true);
    assert.equal(await webhooks.find(a.server.id, one.id), null);
    assert.equal(
      await webhooks.create(newId('srv'), {
        id: newId('whk'),
        url: 'https://x.test',
        events: null,
        sealedSecret: randomBytes(8),
      }),
      null,
    );
  });

  it('reads a delivery target only within the server: webhook, event and keys all of it', async () => {
    const w = await hook(a);
    const e = await event(a);
    const other = await event(b);
    const target = await webhooks.findDeliveryTarget(a.server.id, w.id, e.id);
    assert.ok(target);
    assert.equal(target.webhook.id, w.id);
    assert.equal(target.event.id, e.id);
    assert.equal(target.kmsKeyRef, a.server.kmsKeyRef);
    assert.equal(await webhooks.findDeliveryTarget(b.server.id, w.id, e.id), null);
    assert.equal(
      await webhooks.findDeliveryTarget(a.server.id, w.id, other.id),
      null,
      'B’s event to A’s hook',
    );
  });

  it('logs attempts newest first; a success resets the count of failed events', async () => {
    const w = await hook(a);
    const e = await event(a);
    await webhooks.recordFailedEvent(a.server.id, w.id, 10);
    const failed = await webhooks.recordAttempt(a.server.id, {
      webhookId: w.id,
      eventId: e.id,
      attempt: 1,
      statusCode: 500,
      errorCode: 'http_status',
      durationMs: 12.4,
    });
    assert.ok(failed);
    assert.equal(failed.durationMs, 12);
    assert.equal(
      (await webhooks.find(a.server.id, w.id))?.consecutiveFailures,
      1,
      'a failed attempt keeps it',
    );
    const ok = await webhooks.recordAttempt(a.server.id, {
      webhookId: w.id,
      eventId: e.id,
      attempt: 2,
      statusCode: 204,
      errorCode: null,
      durationMs: 3,
    });
    assert.ok(ok);
    assert.equal((await webhooks.find(a.server.id, w.id))?.consecutiveFailures, 0);
    const log = await webhooks.listDeliveries(a.server.id, w.id, { limit: 10 });
    assert.deepEqual(
      log.map((d) => [d.attempt, d.statusCode, d.errorCode]),
      [
        [2, 204, null],
        [1, 500, 'http_status'],
      ],
    );
    assert.deepEqual(await webhooks.listDeliveries(b.server.id, w.id, { limit: 10 }), []);
    assert.equal(
      await webhooks.recordAttempt(b.server.id, {
        webhookId: w.id,
        eventId: e.id,
        attempt: 3,
        statusCode: 200,
        errorCode: null,
        durationMs: 1,
      }),
      null,
      'cross-tenant: nothing logged',
    );
  });

  it('disables a webhook at the limit of failed events in a row, with one webhook.disabled event', async () => {
    const w = await hook(a);
    assert.equal(await webhooks.recordFailedEvent(b.server.id, w.id, 2), null, 'cross-tenant');
    assert.deepEqual(await webhooks.recordFailedEvent(a.server.id, w.id, 2), {
      consecutiveFailures: 1,
      disabled: false,
    });
    assert.deepEqual(await webhooks.recordFailedEvent(a.server.id, w.id, 2), {
      consecutiveFailures: 2,
      disabled: true,
    });
    assert.equal(
      await webhooks.recordFailedEvent(a.server.id, w.id, 2),
      null,
      'a disabled webhook counts no more',
    );
    const found = await webhooks.find(a.server.id, w.id);
    assert.equal(found?.status, 'disabled');
    assert.ok(found?.disabledAt);
    const disabled = await events.list(a.server.id, { limit: 10, type: 'webhook.disabled' });
    assert.equal(disabled.length, 1);
    assert.deepEqual(disabled[0].data, { webhookId: w.id, consecutiveFailures: 2 });
    assert.deepEqual(await events.list(b.server.id, { limit: 10 }), []);
  });
});
