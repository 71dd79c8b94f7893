import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AccountEntity } from '../entities/account.entity';
import type { MemberRole } from '../entities/member.entity';
import { MemberEntity } from '../entities/member.entity';
import { ServerEntity } from '../entities/server.entity';
import { isUniqueViolation } from './pg-errors';

export type ServerRole = 'owner' | MemberRole;

export interface NewPersonalServer {
  /** The account to create if the address has none yet. */
  accountId: string;
  /** Lowercase owner address. */
  ownerAddress: string;
  server: Pick<ServerEntity, 'id' | 'name' | 'kmsKeyRef' | 'address' | 'publicKey' | 'wrappedIdentityKey'>;
}

/** Servers (the tenants). Every read or write of one server names its id. */
@Injectable()
export class ServerRepository {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  findById(serverId: string): Promise<ServerEntity | null> {
    return this.ds.getRepository(ServerEntity).findOneBy({ id: serverId });
  }

  findPersonalByOwner(accountId: string): Promise<ServerEntity | null> {
    return this.ds.getRepository(ServerEntity).findOneBy({ ownerAccountId: accountId, kind: 'personal' });
  }

  /**
   * The caller's role on a server: 'owner' by account, or the member role by (lowercase) address;
   * null when the server does not exist or the caller has no part in it.
   */
  async findWithRole(
    serverId: string,
    accountId: string,
    address: string,
  ): Promise<{ server: ServerEntity; role: ServerRole } | null> {
    const server = await this.findById(serverId);
    if (!server) return null;
    if (server.ownerAccountId === accountId) return { server, role: 'owner' };
    const member = await this.ds
      .getRepository(MemberEntity)
      .findOneBy({ serverId, address: address.toLowerCase() });
    return member ? { server, role: member.role } : null;
  }

  /** Servers the account owns plus collectives its address is a member of, in id (creation) order. */
  listForAccount(
    accountId: string,
    address: string,
    page: { limit: number; cursor?: string },
  ): Promise<ServerEntity[]> {
    const qb = this.ds
      .getRepository(ServerEntity)
      .createQueryBuilder('s')
      .where(
        '(s.owner_account_id = :accountId OR EXISTS (SELECT 1 FROM server_members m WHERE m.server_id = s.id AND m.address = :address))',
        { accountId, address: address.toLowerCase() },
      );
    if (page.cursor) qb.andWhere('s.id > :cursor', { cursor: page.cursor });
    return qb
      .orderBy('s.id', 'ASC')
      .limit(page.limit + 1)
      .getMany();
  }

  /**
   * One transaction: the account (unless it exists) and its personal server. Returns null when another
   * sign-in already provisioned the personal server (unique index servers_one_personal_idx).
   */
  async createPersonal(
    input: NewPersonalServer,
  ): Promise<{ account: AccountEntity; server: ServerEntity } | null> {
    try {
      return await this.ds.transaction(async (m) => {
        await m.query(`INSERT INTO accounts (id, address) VALUES ($1, $2) ON CONFLICT (address) DO NOTHING`, [
          input.accountId,
          input.ownerAddress,
        ]);
        const account = await m.getRepository(AccountEntity).findOneByOrFail({ address: input.ownerAddress });
        const server = await m.getRepository(ServerEntity).save(
          m.getRepository(ServerEntity).create({
            ...input.server,
            kind: 'personal',
            ownerAccountId: account.id,
            ownerAddress: input.ownerAddress,
            policyKind: 'grants',
            policyAddress: null,
          }),
        );
        return { account, server };
      });
    } catch (err) {
      if (isUniqueViolation(err, 'servers_one_personal_idx')) return null;
      throw err;
    }
  }

  /** Deletes the server's rows; api keys, files, members, operations, access log and usage cascade. */
  async delete(serverId: string): Promise<boolean> {
    const result = await this.ds.getRepository(ServerEntity).delete({ id: serverId });
    return (result.affected ?? 0) > 0;
  }
}
