import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { HearthConfig } from '@hearth/config';
import { EventRepository, OperationRepository, SessionRepository, WebhookRepository } from '@hearth/db';
import { firstIdAt, type IdPrefix, newId } from '@hearth/ids';
import {
  type RepositoryTesting,
  repositoryTesting,
  seedApiKey,
  seedOperation,
  seedServer,
} from '../../../../libs/db/src/testing';
import { PurgeExpiredResultsHandler } from './purge-expired-results.handler';

describe('PurgeExpiredResultsHandler (real Postgres)', () => {
  let db: RepositoryTesting;

  before(async () => {
    db = await repositoryTesting([
      OperationRepository,
      EventRepository,
      WebhookRepository,
      SessionRepository,
    ]);
  });
  after(() => db.close());

  const config = { EVENTS_RETENTION_DAYS: 30, WEBHOOK_DELIVERIES_RETENTION_DAYS: 7 } as HearthConfig;
  const newHandler = () =>
    new PurgeExpiredResultsHandler(
      config,
      db.get(OperationRepository),
      db.get(EventRepository),
      db.get(WebhookRepository),
      db.get(SessionRepository),
    );
  const DAY = 86_400_000;
  const ago = (ms: number) => new Date(Date.now() - ms);
  /** An id as newId would have made it at `at`. */
  const idAt = (prefix: IdPrefix, at: Date) =>
    firstIdAt(prefix, at).slice(0, -20) + randomBytes(10).toString('hex');

  it('drops expired results of every server and keeps the ones still in time', async () => {
    const handler = newHandler();
    const ops = db.get(OperationRepository);
    const [a, b] = [await seedServer(db.dataSource), await seedServer(db.dataSource)];
    const [keyA, keyB] = [
      await seedApiKey(db.dataSource, a.server.id),
      await seedApiKey(db.dataSource, b.server.id),
    ];
    const result = { status: 'succeeded' as const, resultCiphertext: Buffer.from('sealed') };
    const expiredA = await seedOperation(db.dataSource, a.server.id, keyA.id, {
      ...result,
      resultExpiresAt: new Date(Date.now() - 1000),
    });
    const expiredB = await seedOperation(db.dataSource, b.server.id, keyB.id, {
      ...result,
      resultExpiresAt: new Date(Date.now() - 1000),
    });
    const live = await seedOperation(db.dataSource, a.server.id, keyA.id, {
      ...result,
      resultExpiresAt: new Date(Date.now() + 3600_000),
    });
    const { purged } = await handler.handle();
    assert.ok(purged >= 2, `purged ${purged}`);
    assert.equal((await ops.findById(a.server.id, expiredA.id))?.resultCiphertext, null);
    assert.equal((await ops.findById(b.server.id, expiredB.id))?.resultCiphertext, null);
    assert.equal((await ops.findById(a.server.id, live.id))?.resultCiphertext?.toString(), 'sealed');
  });

  it('keeps owner events and delivery logs for their retention, ended sessions for a day, then deletes them', async () => {
    const { server, account } = await seedServer(db.dataSource);
    const q = (sql: string, params: unknown[]) => db.dataSource.query(sql, params);
    const event = async (at: Date, opts: { dispatched?: boolean; dedupeKey?: string } = {}) => {
      const id = idAt('evt', at);
      await q(
        `INSERT INTO events (id, server_id, type, data, dedupe_key, dispatched_at, created_at)
         VALUES ($1, $2, 'grant.added', '{}', $3, $4, $5)`,
        [id, server.id, opts.dedupeKey ?? null, opts.dispatched === false ? null : at, at],
      );
      return id;
    };
    const oldDispatched = await event(ago(31 * DAY));
    const oldUndispatched = await event(ago(31 * DAY), { dispatched: false });
    const oldOnce = await event(ago(40 * DAY), { dedupeKey: 'grant.expired:1' });
    const recent = await event(ago(29 * DAY));

    const webhookId = newId('whk');
    await q(
      `INSERT INTO webhooks (id, server_id, url, sealed_secret) VALUES ($1, $2, 'https://example.com/h', $3)`,
      [webhookId, server.id, randomBytes(16)],
    );
    const delivery = async (at: Date) => {
      const id = idAt('dlv', at);
      await q(
        `INSERT INTO webhook_deliveries (id, server_id, webhook_id, event_id, attempt, duration_ms, created_at)
         VALUES ($1, $2, $3, $4, 1, 5, $5)`,
        [id, server.id, webhookId, recent, at],
      );
      return id;
    };
    const oldDelivery = await delivery(ago(8 * DAY));
    const newDelivery = await delivery(ago(6 * DAY));

    const session = async (created: Date, expires: Date, revoked: Date | null = null) => {
      const id = idAt('ses', created);
      await q(
        `INSERT INTO sessions (id, account_id, token_hash, expires_at, revoked_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [id, account.id, randomBytes(32), expires, revoked, created],
      );
      return id;
    };
    const expiredLongAgo = await session(ago(3 * DAY), ago(2 * DAY));
    const revokedLongAgo = await session(ago(3 * DAY), new Date(Date.now() + DAY), ago(2 * DAY));
    const justExpired = await session(ago(DAY + 3_600_000), ago(3_600_000));
    const active = await session(ago(3_600_000), new Date(Date.now() + DAY));

    const counts = await newHandler().handle();
    assert.ok(counts.events >= 1 && counts.deliveries >= 1 && counts.sessions >= 2, JSON.stringify(counts));
    const ids = async (table: string, list: string[]) =>
      (
        (await q(`SELECT id FROM ${table} WHERE id = ANY($1) ORDER BY id`, [list])) as Array<{ id: string }>
      ).map((r) => r.id);
    assert.deepEqual(
      await ids('events', [oldDispatched, oldUndispatched, oldOnce, recent]),
      [oldOnce, oldUndispatched, recent].sort(),
      'an old event goes once dispatched; one still in the outbox, or a once-only fact, stays',
    );
    assert.deepEqual(await ids('webhook_deliveries', [oldDelivery, newDelivery]), [newDelivery]);
    assert.deepEqual(
      await ids('sessions', [expiredLongAgo, revokedLongAgo, justExpired, active]),
      [justExpired, active].sort(),
    );
  });
});
