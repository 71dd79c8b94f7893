import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '@hearth/ids';
import { randomBytes } from 'node:crypto';
import {
  randomAddress,
  type RepositoryTesting,
  repositoryTesting,
  type SeededServer,
  seedFile,
  seedServer,
} from '../testing';
import { FileRepository } from './file.repository';
import { MetadataKeyRepository } from './metadata-key.repository';
import { isQuotaExceededError } from './quota-exceeded';
import { QuotaRepository } from './quota.repository';
import { ServerRepository } from './server.repository';

describe('QuotaRepository, MetadataKeyRepository and the quotas enforced on write (real Postgres)', () => {
  let db: RepositoryTesting;
  let quotas: QuotaRepository;
  let keys: MetadataKeyRepository;
  let servers: ServerRepository;
  let files: FileRepository;
  let a: SeededServer;
  let b: SeededServer;

  before(async () => {
    db = await repositoryTesting([QuotaRepository, MetadataKeyRepository, ServerRepository, FileRepository]);
    quotas = db.get(QuotaRepository);
    keys = db.get(MetadataKeyRepository);
    servers = db.get(ServerRepository);
    files = db.get(FileRepository);
  });
  after(() => db.close());
  beforeEach(async () => {
    a = await seedServer(db.dataSource);
    b = await seedServer(db.dataSource);
  });

  it('spendRelayedTransaction: ten racing spends at a limit of 3, exactly 3 pass; another account is untouched', async () => {
    const spent = await Promise.all(
      Array.from({ length: 10 }, () => quotas.spendRelayedTransaction(a.account.id, 3)),
    );
    assert.equal(spent.filter(Boolean).length, 3);
    assert.equal((await quotas.usage(a.account.id, a.server.id)).relayedTransactionsToday, 3);
    assert.equal((await quotas.usage(b.account.id, b.server.id)).relayedTransactionsToday, 0);
    assert.equal(await quotas.spendRelayedTransaction(b.account.id, 0), false);
  });

  it('usage counts the account servers and one server bytes, never another tenant', async () => {
    await seedFile(db.dataSource, a.server.id, { chunks: [randomBytes(10), randomBytes(5)] });
    await seedFile(db.dataSource, b.server.id, { chunks: [randomBytes(99)] });
    const usage = await quotas.usage(a.account.id, a.server.id);
    assert.deepEqual(usage, { servers: 1, collectives: 0, relayedTransactionsToday: 0, storedBytes: 15 });
  });

  it('createCollective: two concurrent creates at quota - 1, one is stored and one refused', async () => {
    const create = () =>
      servers.createCollective(newId('srv'), {
        ownerAccountId: a.account.id,
        ownerAddress: a.account.address,
        server: {
          name: 'c',
          kmsKeyRef: 'k',
          address: randomAddress(),
          publicKey: '0x04',
          wrappedIdentityKey: randomBytes(8),
        },
        whitelistAddress: randomAddress(),
        kThreshold: 5,
        admin: { memberId: newId('mem'), kmsKeyRef: 'm' },
        quota: { servers: 10, collectives: 1 },
      });
    const results = await Promise.allSettled([create(), create()]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected')!.reason as unknown;
    assert.ok(isQuotaExceededError(refused) && refused.quota === 'collectives');
    assert.equal((await quotas.usage(a.account.id, a.server.id)).collectives, 1);
    assert.equal((await quotas.usage(b.account.id, b.server.id)).collectives, 0);
  });

  it('upload: two uploads finishing at once where only one fits, one is stored and one leaves nothing', async () => {
    const upload = () =>
      files.upload(
        a.server.id,
        {
          id: newId('fil'),
          sealedName: randomBytes(30),
          sealedContentType: randomBytes(30),
          encryption: 'server',
          wrappedDataKey: randomBytes(40),
          kmsKeyRef: null,
          contributorAddress: a.account.address,
        },
        async (chunks) => {
          await chunks.put(randomBytes(60));
          return { size: 60, ciphertextSha256: 'x' };
        },
        100,
      );
    const results = await Promise.allSettled([upload(), upload()]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected')!.reason as unknown;
    assert.ok(isQuotaExceededError(refused) && refused.quota === 'storage_bytes');
    assert.equal((await quotas.usage(a.account.id, a.server.id)).storedBytes, 60);
    // Another server's room is its own.
    const [other] = await Promise.allSettled([
      files.upload(
        b.server.id,
        {
          id: newId('fil'),
          sealedName: randomBytes(30),
          sealedContentType: randomBytes(30),
          encryption: 'server',
          wrappedDataKey: randomBytes(40),
          kmsKeyRef: null,
          contributorAddress: b.account.address,
        },
        async (chunks) => {
          await chunks.put(randomBytes(90));
          return { size: 90, ciphertextSha256: 'x' };
        },
        100,
      ),
    ]);
    assert.equal(other.status, 'fulfilled');
  });

  it('metadata keys: racing inserts keep one key; a server has only its own; an unknown server gets none', async () => {
    const stored = await Promise.all([1, 2, 3].map(() => keys.findOrInsert(a.server.id, randomBytes(40))));
    for (const k of stored) assert.ok(k && k.equals(stored[0]!));
    assert.ok((await keys.find(a.server.id))!.equals(stored[0]!));
    assert.equal(await keys.find(b.server.id), null);
    assert.equal(await keys.findOrInsert(newId('srv'), randomBytes(40)), null);
  });
});
