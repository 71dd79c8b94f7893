import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '@hearth/ids';
import { type RepositoryTesting, repositoryTesting, type SeededServer, seedServer } from '../testing';
import { AccountRepository } from './account.repository';

describe('AccountRepository (real Postgres)', () => {
  let db: RepositoryTesting;
  let accounts: AccountRepository;
  let a: SeededServer;
  let b: SeededServer;

  before(async () => {
    db = await repositoryTesting([AccountRepository]);
    accounts = db.get(AccountRepository);
    a = await seedServer(db.dataSource);
    b = await seedServer(db.dataSource);
  });
  after(() => db.close());

  describe('findById', () => {
    it('finds the account, null for an unknown id', async () => {
      assert.equal((await accounts.findById(a.account.id))?.address, a.account.address);
      assert.equal(await accounts.findById(newId('acc')), null);
    });

    it("cross-tenant: B's account id gives B's account, never A's", async () => {
      const found = await accounts.findById(b.account.id);
      assert.equal(found?.id, b.account.id);
      assert.equal(found?.address, b.account.address);
    });
  });

  describe('findByAddress', () => {
    it('finds by address in any case', async () => {
      assert.equal((await accounts.findByAddress(a.account.address.toUpperCase()))?.id, a.account.id);
      assert.equal(await accounts.findByAddress('0x' + '0'.repeat(40)), null);
    });

    it("cross-tenant: B's address gives B's account, never A's", async () => {
      assert.equal((await accounts.findByAddress(b.account.address))?.id, b.account.id);
    });
  });
});
