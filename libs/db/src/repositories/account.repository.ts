import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AccountEntity } from '../entities/account.entity';

/** Wallet accounts. Not tenant data: an account is looked up by its id or (lowercase) address. */
@Injectable()
export class AccountRepository {
  static readonly entities = [AccountEntity];

  constructor(@InjectRepository(AccountEntity) private readonly accounts: Repository<AccountEntity>) {}

  findById(accountId: string): Promise<AccountEntity | null> {
    return this.accounts.findOneBy({ id: accountId });
  }

  findByAddress(address: string): Promise<AccountEntity | null> {
    return this.accounts.findOneBy({ address: address.toLowerCase() });
  }
}
