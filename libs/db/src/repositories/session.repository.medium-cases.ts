import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '@hearth/ids';
import { randomBytes } from 'node:crypto';
import { type RepositoryTesting, repositoryTesting, type SeededServer, seedServer } from '../testing';
import { SessionRepository } from './session.repository';

describe('SessionRepository (real Postgres)', () => {
  let db: RepositoryTesting;
  let sessions: SessionRepository;
  let a: SeededServer;
  let b: SeededServer;
  const inAnHour = () => new Date(Date.now() + 3600_000);

  before(async () => {
    db = await repositoryTesting([SessionRepository]);
    sessions = db.get(SessionRepository);
    a = await seedServer(db.dataSource);
    b = await seedServer(db.dataSource);
  });
  after(() => db.close());

  const open = (accountId: string, expiresAt = inAnHour()) => {
    const tokenHash = randomBytes(32);
    return sessions
      .create({ id: newId('ses'), accountId, tokenHash, expiresAt })
      .then((s) => ({ ...s, tokenHash }));
  };

  describe('create and findActive', () => {
    it("creates a session and finds it by token hash with the account's address", async () => {
      const s = await open(a.account.id);
      assert.ok(s.createdAt instanceof Date);
      const active = await sessions.findActive(s.tokenHash);
      assert.deepEqual(
        { ...active, expiresAt: active?.expiresAt.getTime() },
        {
          sessionId: s.id,
          accountId: a.account.id,
          address: a.account.address,
          expiresAt: s.expiresAt.getTime(),
        },
      );
    });

    it('does not find an expired session or an unknown token', async () => {
      const s = await open(a.account.id, new Date(Date.now() - 1000));
      assert.equal(await sessions.findActive(s.tokenHash), null);
      assert.equal(await sessions.findActive(randomBytes(32)), null);
    });

    it("cross-tenant: B's token names B's account, never A's", async () => {
      await open(a.account.id);
      const sb = await open(b.account.id);
      assert.equal((await sessions.findActive(sb.tokenHash))?.accountId, b.account.id);
    });
  });

  describe('revoke', () => {
    it('signs the session out', async () => {
      const s = await open(a.account.id);
      await sessions.revoke(a.account.id, s.id);
      assert.equal(await sessions.findActive(s.tokenHash), null);
    });

    it("cross-tenant: B's account cannot sign A's session out", async () => {
      const sa = await open(a.account.id);
      await sessions.revoke(b.account.id, sa.id);
      assert.equal((await sessions.findActive(sa.tokenHash))?.sessionId, sa.id);
    });
  });
});
