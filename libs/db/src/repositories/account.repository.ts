import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AccountEntity } from '../entities/account.entity';

/** Wallet accounts. Not tenant data: an account is looked up by its (lowercase) address. */
@Injectable()
export class AccountRepository {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  findById(accountId: string): Promise<AccountEntity | null> {
    return this.ds.getRepository(AccountEntity).findOneBy({ id: accountId });
  }

  findByAddress(address: string): Promise<AccountEntity | null> {
    return this.ds.getRepository(AccountEntity).findOneBy({ address: address.toLowerCase() });
  }
}
