import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseHealth } from './health';
import { repositoryTesting } from './testing';

describe('DatabaseHealth (real Postgres)', () => {
  it('pings while the database answers, and fails once its pool is gone', async () => {
    const db = await repositoryTesting([]);
    const health = db.get(DatabaseHealth);
    await health.ping();
    await db.close();
    await assert.rejects(health.ping());
  });
});
