import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { AccountEntity } from '../entities/account.entity';
import type { MemberRole } from '../entities/member.entity';
import { MemberEntity } from '../entities/member.entity';
import { type PolicyKind, ServerEntity } from '../entities/server.entity';
import { hydrate } from './hydrate';
import { Params } from './internal/params';
import { isUniqueViolation } from './pg-errors';
import { QuotaExceededError } from './quota-exceeded';
import { columnsOf } from './prepared';

export type ServerRole = 'owner' | MemberRole;

/** The server's identity and tenant key, made before its row (the key lives outside Postgres). */
export type NewServerIdentity = Pick<
  ServerEntity,
  'name' | 'kmsKeyRef' | 'address' | 'publicKey' | 'wrappedIdentityKey'
>;

export interface NewPersonalServer {
  /** The account to create if the address has none yet. */
  accountId: string;
  /** Lowercase owner address. */
  ownerAddress: string;
  server: NewServerIdentity;
}

export interface NewCollective {
  /** The creator: owner of the row and of the Whitelist contract. */
  ownerAccountId: string;
  /** Lowercase. */
  ownerAddress: string;
  server: NewServerIdentity;
  /** Lowercase address of the Whitelist contract governing it. */
  whitelistAddress: string;
  kThreshold: number;
  /** The creator's admin membership and their own member key. */
  admin: { memberId: string; kmsKeyRef: string };
  /** The creator's quotas: servers (all kinds) and collectives they may own (none when absent). */
  quota?: { servers: number; collectives: number };
}

/** Servers (the tenants). Every read or write of one server names its id first. */
@Injectable()
export class ServerRepository {
  static readonly entities = [ServerEntity, MemberEntity];

  private serverColumns?: string;

  constructor(
    @InjectRepository(ServerEntity) private readonly servers: Repository<ServerEntity>,
    @InjectRepository(MemberEntity) private readonly members: Repository<MemberEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  findById(serverId: string): Promise<ServerEntity | null> {
    return this.servers.findOneBy({ id: serverId });
  }

  /** The account's personal server (an account has at most one). */
  findPersonalByOwner(accountId: string): Promise<ServerEntity | null> {
    return this.servers.findOneBy({ ownerAccountId: accountId, kind: 'personal' });
  }

  /**
   * The personal server of the account whose wallet is `ownerAddress` (any case): where an app's access request
   * names the owner rather than the server. Like the key lookup, the address is what names the tenant here.
   */
  findPersonalByOwnerAddress(ownerAddress: string): Promise<ServerEntity | null> {
    return this.servers.findOneBy({ ownerAddress: ownerAddress.toLowerCase(), kind: 'personal' });
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
    const member = await this.members.findOneBy({ serverId, address: address.toLowerCase() });
    return member ? { server, role: member.role } : null;
  }

  /**
   * Servers the account owns plus collectives its address is a member of, in id (creation) order, after
   * `cursor`: up to `limit + 1` rows (one more tells the caller there is a next page).
   *
   * The account is the tenant here. Each half is a page of its own, read from an index led by the account
   * (servers_owner_page_idx: owner, id COLLATE "C"; server_members_address_page_idx: address, server id
   * COLLATE "C"); the merged page's ids then fetch their rows by primary key. One OR over both halves would leave
   * only the primary key in id order, walked while testing every tenant's servers; ordering and comparing
   * `COLLATE "C"`, which only those indexes have, keeps that plan out whatever the statistics say, and fetching
   * by `id = ANY(…)` (at most `limit + 1` ids of a unique column) keeps a scan of all servers out of the last step
   * (docs/architecture.md#pages).
   */
  async listForAccount(
    accountId: string,
    address: string,
    page: { limit: number; cursor?: string },
  ): Promise<ServerEntity[]> {
    this.serverColumns ??= columnsOf(this.dataSource, ServerEntity);
    const p = new Params();
    const account = p.add(accountId);
    const member = p.add(address.toLowerCase());
    const cursor = page.cursor ? p.add(page.cursor) : null;
    const limit = p.add(page.limit + 1);
    const rows: Array<Record<string, unknown>> = await this.servers.query(
      `SELECT ${this.serverColumns} FROM servers WHERE id = ANY(ARRAY(
           SELECT id FROM (
               (SELECT id FROM servers
                 WHERE owner_account_id = ${account}${cursor ? ` AND id COLLATE "C" > ${cursor}` : ''}
                 ORDER BY id COLLATE "C" LIMIT ${limit})
               UNION
               (SELECT server_id FROM server_members
                 WHERE address = ${member}${cursor ? ` AND server_id COLLATE "C" > ${cursor}` : ''}
                 ORDER BY server_id COLLATE "C" LIMIT ${limit})
             ) halves
            ORDER BY id COLLATE "C" LIMIT ${limit}))
        ORDER BY id COLLATE "C"`,
      p.values,
    );
    return rows.map((row) => hydrate(this.dataSource, ServerEntity, row));
  }

  /**
   * One transaction: the account (unless it exists) and its personal server. Returns null when another
   * sign-in already provisioned the personal server (unique index servers_one_personal_idx).
   */
  async createPersonal(
    serverId: string,
    input: NewPersonalServer,
  ): Promise<{ account: AccountEntity; server: ServerEntity } | null> {
    try {
      return await this.dataSource.transaction(async (m) => {
        await m.query(`INSERT INTO accounts (id, address) VALUES ($1, $2) ON CONFLICT (address) DO NOTHING`, [
          input.accountId,
          input.ownerAddress,
        ]);
        const account = await m.getRepository(AccountEntity).findOneByOrFail({ address: input.ownerAddress });
        // insert, not save: an id that exists is an error, never an update of that server.
        const servers = m.withRepository(this.servers);
        await servers.insert({
          ...input.server,
          id: serverId,
          kind: 'personal',
          ownerAccountId: account.id,
          ownerAddress: input.ownerAddress,
          policyKind: 'grants',
          policyAddress: null,
        });
        return { account, server: await servers.findOneByOrFail({ id: serverId }) };
      });
    } catch (err) {
      if (isUniqueViolation(err, 'servers_one_personal_idx')) return null;
      throw err;
    }
  }

  /**
   * One transaction: a collective governed by its Whitelist, and its creator as its first admin, unless the creator
   * already owns their quota of servers or collectives (QuotaExceededError, nothing written). The count and the
   * insert run under a transaction-scoped advisory lock on the account, so two concurrent creates at quota - 1
   * cannot both pass.
   */
  async createCollective(serverId: string, input: NewCollective): Promise<ServerEntity> {
    return this.dataSource.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtextextended('hearth:servers:' || $1, 0))`, [
        input.ownerAccountId,
      ]);
      const [owned] = await m.query<Array<{ servers: number; collectives: number }>>(
        `SELECT count(*)::int AS servers, (count(*) FILTER (WHERE kind = 'collective'))::int AS collectives
         FROM servers WHERE owner_account_id = $1`,
        [input.ownerAccountId],
      );
      const quota = input.quota ?? { servers: Infinity, collectives: Infinity };
      if (owned.servers >= quota.servers) throw new QuotaExceededError('servers', quota.servers);
      if (owned.collectives >= quota.collectives)
        throw new QuotaExceededError('collectives', quota.collectives);
      const servers = m.withRepository(this.servers);
      await servers.insert({
        ...input.server,
        id: serverId,
        kind: 'collective',
        ownerAccountId: input.ownerAccountId,
        ownerAddress: input.ownerAddress,
        policyKind: 'whitelist',
        policyAddress: input.whitelistAddress,
        kThreshold: input.kThreshold,
      });
      await m.withRepository(this.members).insert({
        id: input.admin.memberId,
        serverId,
        address: input.ownerAddress,
        role: 'admin',
        kmsKeyRef: input.admin.kmsKeyRef,
      });
      return servers.findOneByOrFail({ id: serverId });
    });
  }

  /** Sets the permission policy; false when there is no such server. */
  async setPolicy(serverId: string, kind: PolicyKind, address: string | null): Promise<boolean> {
    const result = await this.servers.update({ id: serverId }, { policyKind: kind, policyAddress: address });
    return (result.affected ?? 0) > 0;
  }

  /** Deletes the server's rows; api keys, files, members, operations, access log and usage cascade. */
  async delete(serverId: string): Promise<boolean> {
    const result = await this.servers.delete({ id: serverId });
    return (result.affected ?? 0) > 0;
  }
}
