import { outageProblem } from '../common/library-errors';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { generateIdentity } from '@hearth/crypto';
import {
  CollectiveDataRepository,
  MemberRepository,
  type Page,
  type PaginationQuery,
  type ServerEntity,
  ServerRepository,
  type ServerRole,
  toPage,
} from '@hearth/db';
import { ErrorCode, parseOrThrow, ProblemError } from '@hearth/errors';
import { newId } from '@hearth/ids';
import { isKeyManagerError, type KeyManager } from '@hearth/kms';
import {
  type Jsonified,
  PermissionsError,
  toJsonSafe,
  type WhitelistChangeTypedData,
} from '@hearth/permissions';
import { BaseError, getAddress, type Address, type Hex } from 'viem';
import type { SessionAccount } from '../auth/auth.types';
import { Chain } from '../chain/chain.module';
import { permissionsProblem } from '../common/library-errors';
import { KEY_MANAGER } from '../keys/keys.module';
import { QuotasService } from '../quotas/quotas.service';
import { OwnerEvents } from '../events/owner-events';
import { identityKeyContext } from '@hearth/blobs';
import { toServerView, type ServerView } from '../servers/server.view';
import {
  type AddMemberBody,
  addMemberBody,
  type CreateServerBody,
  type DatasetView,
  type MemberView,
  privacyBody,
  type PrivacyView,
  toDatasetView,
  type SignedWhitelistBody,
  signedWhitelistBody,
  toMemberView,
  type WhitelistTypedDataBody,
  whitelistTypedDataBody,
} from './collectives.dto';

export const DEFAULT_K = 5;

/** The key-manager tenant id of a member's own key: contributions wrapped under it die with it. */
export function memberKeyTenant(serverId: string, memberId: string): string {
  return `${serverId}:${memberId}`;
}

/**
 * Collectives: shared servers with their own tenant key, identity and Whitelist contract; members with
 * keys of their own (removal crypto-shreds exactly their contributions); whitelist changes signed by the
 * contract's owner and relayed by the platform. Callers have already made the tenant check.
 */
@Injectable()
export class CollectivesService {
  private readonly logger = new Logger('CollectivesService');

  constructor(
    private readonly servers: ServerRepository,
    private readonly members: MemberRepository,
    private readonly data: CollectiveDataRepository,
    private readonly chain: Chain,
    @Inject(KEY_MANAGER) private readonly keys: KeyManager,
    private readonly quotas: QuotasService,
    private readonly events: OwnerEvents,
  ) {}

  /* ---------------- provisioning ---------------- */

  /**
   * Whitelist first (the slow, public part: an orphan contract holds nothing), then the tenant key and the
   * creator's member key, then one transaction for server + admin membership. Keys made here are destroyed
   * when the transaction fails.
   */
  async create(account: SessionAccount, body: CreateServerBody): Promise<ServerView> {
    if (body.kind !== 'collective') {
      throw ProblemError.validation([
        {
          field: 'kind',
          code: 'invalid_enum_value',
          message:
            'must be "collective": the personal server is provisioned at the first sign-in, one per account',
        },
      ]);
    }
    const creator = getAddress(account.address);
    const relayer = this.chain.relayer;
    // Quotas before the relayer pays for a deployment (createCollective re-checks the counts under a lock).
    await this.quotas.beforeCollective(account.accountId, '');
    await this.quotas.spendRelayedTransaction(account.accountId);
    const whitelist = await this.call('', () => relayer.deployWhitelist(creator));

    const serverId = newId('srv');
    const memberId = newId('mem');
    const made: string[] = [];
    try {
      const { keyRef } = await this.keys.createTenantKey(serverId);
      made.push(keyRef);
      const { keyRef: memberKeyRef } = await this.keys.createTenantKey(memberKeyTenant(serverId, memberId));
      made.push(memberKeyRef);
      const identity = generateIdentity();
      let wrapped: Buffer;
      try {
        wrapped = await this.keys.encrypt(keyRef, identity.privateKey, identityKeyContext(serverId));
      } finally {
        identity.privateKey.fill(0);
      }
      // One transaction: the server and the creator's admin membership.
      const server = await this.servers.createCollective(serverId, {
        ownerAccountId: account.accountId,
        ownerAddress: creator.toLowerCase(),
        server: {
          name: body.name,
          kmsKeyRef: keyRef,
          address: identity.address.toLowerCase(),
          publicKey: identity.publicKey,
          wrappedIdentityKey: wrapped,
        },
        whitelistAddress: whitelist.address.toLowerCase(),
        kThreshold: body.k ?? DEFAULT_K,
        admin: { memberId, kmsKeyRef: memberKeyRef },
        quota: this.quotas.collectiveLimits,
      });
      this.logger.log({ tenantId: serverId, whitelist: whitelist.address }, 'collective provisioned');
      return toServerView(server);
    } catch (err) {
      for (const ref of made) await this.discardKey(ref, serverId);
      throw err;
    }
  }

  /* ---------------- members ---------------- */

  /** The body is parsed after the role check: a non-admin learns nothing about what it sent. */
  async addMember(server: ServerEntity, role: ServerRole, raw: unknown): Promise<MemberView> {
    requireCollective(server);
    requireAdmin(role, 'add members');
    const body: AddMemberBody = parseOrThrow(addMemberBody, raw ?? {});
    const address = body.address.toLowerCase();
    if (await this.members.exists(server.id, address)) throw memberExists(body.address);
    const id = newId('mem');
    const { keyRef } = await this.keys.createTenantKey(memberKeyTenant(server.id, id));
    const added = await this.members
      .add(server.id, { id, address, role: body.role, kmsKeyRef: keyRef })
      .catch(async (err: unknown) => {
        await this.discardKey(keyRef, server.id);
        throw err;
      });
    if (!added) {
      // A concurrent request added the same address first.
      await this.discardKey(keyRef, server.id);
      throw memberExists(body.address);
    }
    this.logger.log({ tenantId: server.id, memberId: id, role: body.role }, 'member added');
    await this.events.record(server.id, {
      type: 'member.joined',
      data: { memberId: id, address, role: body.role },
    });
    return toMemberView(added);
  }

  async listMembers(server: ServerEntity, page: PaginationQuery): Promise<Page<MemberView>> {
    requireCollective(server);
    const rows = await this.members.list(server.id, page);
    const totals = await this.members.contributionTotals(
      server.id,
      rows.map((m) => m.address),
    );
    return toPage(rows, page.limit, (m) => toMemberView(m, totals.get(m.address)));
  }

  /**
   * Removes a member and their contributions. Their key goes first (crypto-shredding: a backup of the rows can
   * never be decrypted again), then their files, chunks and membership in one transaction.
   */
  async removeMember(
    server: ServerEntity,
    role: ServerRole,
    account: SessionAccount,
    addressParam: string,
  ): Promise<void> {
    requireCollective(server);
    const self = addressParam.toLowerCase() === account.address.toLowerCase();
    if (!self) requireAdmin(role, 'remove other members');
    if (!/^0x[0-9a-fA-F]{40}$/.test(addressParam)) throw ProblemError.notFound('member');
    const address = addressParam.toLowerCase();
    const member = await this.members.findByAddress(server.id, address);
    if (!member) throw ProblemError.notFound('member');
    if (address === server.ownerAddress) {
      throw new ProblemError(
        409,
        ErrorCode.conflict,
        "The collective's creator owns its Whitelist and cannot leave it; delete the collective instead",
      );
    }
    if (member.kmsKeyRef) {
      try {
        await this.keys.destroyTenantKey(member.kmsKeyRef);
      } catch (err) {
        if (!isKeyManagerError(err, 'key_not_found')) {
          this.logger.error(
            {
              tenantId: server.id,
              memberId: member.id,
              err: err instanceof Error ? err.message : String(err),
            },
            'member key destruction failed',
          );
          throw outageProblem(
            ErrorCode.key_manager_unavailable,
            'The key manager could not destroy the member key; try again',
          );
        }
      }
    }
    // One transaction: their files, chunks and membership.
    const removed = await this.members.removeWithContributions(server.id, member.id);
    const removedFiles = removed?.removedFiles ?? 0;
    this.logger.log(
      { tenantId: server.id, memberId: member.id, removedFiles },
      'member removed (member key destroyed)',
    );
    if (removed)
      await this.events.record(server.id, { type: 'member.left', data: { memberId: member.id, address } });
  }

  /* ---------------- datasets ---------------- */

  /** Freezes the current contribution set as the next dataset version (admins): aggregates may name it. */
  async publishDataset(
    server: ServerEntity,
    role: ServerRole,
    account: SessionAccount,
  ): Promise<DatasetView> {
    requireCollective(server);
    requireAdmin(role, 'publish datasets');
    const dataset = await this.data.publishDataset(server.id, account.address);
    this.logger.log(
      { tenantId: server.id, datasetId: dataset.id, version: dataset.version },
      'dataset published',
    );
    return toDatasetView(dataset);
  }

  async listDatasets(server: ServerEntity, page: PaginationQuery): Promise<Page<DatasetView>> {
    requireCollective(server);
    const rows = await this.data.listDatasets(server.id, page);
    return toPage(rows, page.limit, toDatasetView);
  }

  /* ---------------- differential privacy ---------------- */

  async privacy(server: ServerEntity, role: ServerRole): Promise<PrivacyView> {
    requireCollective(server);
    requireAdmin(role, 'see the privacy budgets');
    const settings = await this.data.privacySettings(server.id);
    const budget = settings.budget === null ? null : Number(settings.budget);
    const spent = await this.data.spentByApp(server.id, 200);
    return {
      epsilon: settings.epsilon === null ? null : Number(settings.epsilon),
      budget,
      apps: spent.map((s) => ({
        app: getAddress(s.appAddress),
        spent: Number(s.spent),
        remaining: budget === null ? null : Math.max(0, budget - Number(s.spent)),
      })),
    };
  }

  /** Sets ε per aggregate and the total per app (admins); spent budgets are kept (they never refill). */
  async setPrivacy(server: ServerEntity, role: ServerRole, raw: unknown): Promise<PrivacyView> {
    requireCollective(server);
    requireAdmin(role, 'change differential privacy');
    const body = parseOrThrow(privacyBody, raw ?? {});
    await this.data.setPrivacy(server.id, {
      epsilon: body.epsilon === null ? null : String(body.epsilon),
      budget: body.budget === null ? null : String(body.budget),
    });
    this.logger.log({ tenantId: server.id, epsilon: body.epsilon, budget: body.budget }, 'privacy set');
    return this.privacy(server, role);
  }

  /* ---------------- whitelist ---------------- */

  async whitelistTypedData(
    server: ServerEntity,
    role: ServerRole,
    raw: unknown,
  ): Promise<{ typedData: Jsonified<WhitelistChangeTypedData> }> {
    const whitelist = requireWhitelist(server);
    requireAdmin(role, 'change the whitelist');
    const body: WhitelistTypedDataBody = parseOrThrow(whitelistTypedDataBody, raw ?? {});
    const relayer = this.chain.relayer;
    const typedData = await this.call('', () =>
      relayer.buildWhitelistChangeTypedData({
        whitelist,
        account: getAddress(body.app),
        add: body.action === 'add',
      }),
    );
    return { typedData: toJsonSafe(typedData) };
  }

  async relayWhitelist(server: ServerEntity, role: ServerRole, raw: unknown): Promise<{ txHash: Hex }> {
    const whitelist = requireWhitelist(server);
    requireAdmin(role, 'change the whitelist');
    const body: SignedWhitelistBody = parseOrThrow(signedWhitelistBody, raw ?? {});
    const domain = body.typedData.domain as { verifyingContract?: unknown } | undefined;
    const contract =
      typeof domain?.verifyingContract === 'string' ? domain.verifyingContract.toLowerCase() : '';
    if (contract !== whitelist.toLowerCase()) {
      throw ProblemError.validation([
        {
          field: 'typedData.domain.verifyingContract',
          code: 'wrong_contract',
          message: `must be this collective's Whitelist ${whitelist}`,
        },
      ]);
    }
    const relayer = this.chain.relayer;
    await this.quotas.spendRelayedTransaction(server.ownerAccountId);
    const relayed = await this.call('typedData.', () =>
      relayer.relayWhitelistChange(body.typedData, body.signature),
    );
    this.logger.log({ tenantId: server.id, txHash: relayed.txHash }, 'whitelist change relayed');
    return relayed;
  }

  /* ---------------- internals ---------------- */

  private async discardKey(keyRef: string, serverId: string): Promise<void> {
    try {
      await this.keys.destroyTenantKey(keyRef);
    } catch (err) {
      // An orphaned key encrypts nothing stored; log it for the operator and go on.
      this.logger.warn(
        { tenantId: serverId, err: err instanceof Error ? err.message : String(err) },
        'could not destroy an unused key',
      );
    }
  }

  /** Runs a relayer call, turning its failures into problems (field names prefixed to match the body). */
  private async call<T>(prefix: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ProblemError) throw err;
      if (err instanceof PermissionsError) {
        throw permissionsProblem(err, { prefix, subject: 'whitelist', retryAfterSeconds: 5 });
      }
      if (err instanceof BaseError) throw chainUnavailable();
      throw err;
    }
  }
}

function chainUnavailable(): ProblemError {
  return new ProblemError(
    503,
    ErrorCode.chain_unavailable,
    'The chain RPC is unreachable; try again later',
    undefined,
    {
      'Retry-After': '5',
    },
  );
}

function requireCollective(server: ServerEntity): void {
  if (server.kind !== 'collective') {
    throw new ProblemError(
      400,
      ErrorCode.validation_failed,
      'Only collectives have members; this is a personal server',
      [{ field: 'id', code: 'not_a_collective', message: 'must be a collective server' }],
    );
  }
}

function requireWhitelist(server: ServerEntity): Address {
  requireCollective(server);
  if (server.policyKind !== 'whitelist' || !server.policyAddress) {
    throw new ProblemError(
      400,
      ErrorCode.policy_invalid,
      'This collective is not governed by a Whitelist contract',
    );
  }
  return getAddress(server.policyAddress);
}

function requireAdmin(role: ServerRole, what: string): void {
  if (role !== 'owner' && role !== 'admin') {
    throw new ProblemError(403, ErrorCode.forbidden, `Only the collective's admins may ${what}`);
  }
}

function memberExists(address: string): ProblemError {
  return new ProblemError(409, ErrorCode.member_exists, `${getAddress(address)} is already a member`, [
    { field: 'address', code: 'member_exists', message: 'already a member of this collective' },
  ]);
}
