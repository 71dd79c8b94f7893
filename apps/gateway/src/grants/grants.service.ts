import { Inject, Injectable, Logger } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import {
  CollectiveDataRepository,
  FileRepository,
  type Page,
  type ServerEntity,
  ServerRepository,
} from '@hearth/db';
import { ErrorCode, type FieldError, ProblemError } from '@hearth/errors';
import { inferenceOptionsFromConfig, listCatalog } from '@hearth/inference';
import {
  createHearthPublicClient,
  DATA_PERMISSIONS_DOMAIN_NAME,
  type GrantRecord,
  type GrantRelayer,
  isTransportError,
  isVanaDataPermissionContract,
  type Jsonified,
  parseGrantTypedData,
  parseRevokeGrantTypedData,
  PermissionsError,
  type RevokeGrantTypedData,
  type GrantTypedData,
  toJsonSafe,
  uintToFileId,
  uintToScopeId,
} from '@hearth/permissions';
import { BaseError, getAddress, type Address, type Hex, type PublicClient } from 'viem';
import { Chain } from '../chain/chain.module';
import { QuotasService } from '../quotas/quotas.service';
import { OwnerEvents } from '../events/owner-events';
import { permissionsProblem } from '../common/library-errors';
import { toServerView, type ServerView } from '../servers/server.view';
import {
  GRANT_ID,
  type GrantTypedDataBody,
  type GrantsQuery,
  type GrantView,
  type PolicyBody,
  type SignedTypedDataBody,
  toGrantView,
  unknownTypedDataKeys,
} from './grants.dto';

const MAX_FILE_UINT = (1n << 128n) - 1n;

/**
 * Owner-side grants: typed data for the owner's wallet to sign, off-chain checks of what comes back (so a bad
 * request never costs gas or a nonce), relaying through the platform's key, and the chain's view of the grants.
 * Callers have already checked that the server is the caller's own.
 */
@Injectable()
export class GrantsService {
  private readonly logger = new Logger(GrantsService.name);
  /** Each catalog operation's name and whether it is an aggregate one. */
  private readonly catalogAggregate: Map<string, boolean>;
  private policyClientInstance?: PublicClient;

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    private readonly files: FileRepository,
    private readonly servers: ServerRepository,
    private readonly collectives: CollectiveDataRepository,
    private readonly chain: Chain,
    private readonly quotas: QuotasService,
    private readonly events: OwnerEvents,
  ) {
    this.catalogAggregate = new Map(
      listCatalog(inferenceOptionsFromConfig(config)).map((o) => [o.name, o.aggregate]),
    );
  }

  /* ---------------- grants ---------------- */

  async grantTypedData(
    server: ServerEntity,
    body: GrantTypedDataBody,
  ): Promise<{ typedData: Jsonified<GrantTypedData> }> {
    this.requireCatalogOperations(server, body.operations, 'operations');
    await this.requireScope(server, body.fileIds, body.datasetIds, '');
    // On-chain a dataset id takes a file id's place in the grant's scope (libs/permissions file-ids.ts).
    const fileIds = [...new Set(body.fileIds ?? body.datasetIds ?? [])];
    const relayer = this.chain.relayer;
    const typedData = await this.call('', () =>
      relayer.buildGrantTypedData({
        grantor: ownerOf(server),
        grantee: getAddress(body.appAddress),
        serverId: server.id,
        operations: [...new Set(body.operations)],
        fileIds,
        allFiles: body.allFiles === true,
        expiresAt: body.expiresAt ? new Date(body.expiresAt) : undefined,
      }),
    );
    return { typedData: toJsonSafe(typedData) };
  }

  /** Everything that can be refused without the chain is refused first; then the relayer checks nonce, deadline, signer. */
  async relayGrant(
    server: ServerEntity,
    body: SignedTypedDataBody,
  ): Promise<{ grantId: string; txHash: Hex }> {
    const relayer = this.chain.relayer;
    rejectFields(unknownTypedDataKeys(body.typedData, 'Grant'));
    const parsed = parseGrantTypedData(body.typedData, expectedDomain(relayer));
    if (!parsed.ok) throw ProblemError.validation(prefixed('typedData.', parsed.errors));
    const m = parsed.typedData.message;
    if (m.grantor !== ownerOf(server)) {
      throw new ProblemError(403, ErrorCode.forbidden, "Only the server's owner can grant access to it", [
        {
          field: 'typedData.message.grantor',
          code: 'not_owner',
          message: "must be the server owner's address",
        },
      ]);
    }
    if (m.serverId !== server.id) {
      throw ProblemError.validation([
        { field: 'typedData.message.serverId', code: 'wrong_server', message: `must be ${server.id}` },
      ]);
    }
    this.requireCatalogOperations(server, m.operations, 'typedData.message.operations');
    const notFiles: FieldError[] = [];
    const collective = server.kind === 'collective';
    const scopeIds = m.fileIds.map((n, i) => {
      const id = n <= MAX_FILE_UINT ? uintToFileId(n) : n < 1n << 129n ? uintToScopeId(n) : '';
      if (id.startsWith(collective ? 'dst_' : 'fil_')) return id;
      if (collective && id.startsWith('fil_')) return id; // refused below with the collective's own code
      notFiles.push({
        field: `typedData.message.fileIds.${i}`,
        code: 'not_found',
        message: collective ? 'no such dataset on this collective' : 'no such file on this server',
      });
      return '';
    });
    if (notFiles.length > 0) throw filesNotFound(notFiles);
    const files = scopeIds.filter((id) => id.startsWith('fil_'));
    const datasets = scopeIds.filter((id) => id.startsWith('dst_'));
    await this.requireScope(
      server,
      files.length > 0 ? files : undefined,
      datasets.length > 0 ? datasets : undefined,
      'typedData.message.',
    );
    // The relayer pays gas: each relayed transaction counts against the owner's daily quota.
    await this.quotas.spendRelayedTransaction(server.ownerAccountId);
    const relayed = await this.call('typedData.', () => relayer.relayGrant(body.typedData, body.signature));
    this.logger.log(
      { serverId: server.id, grantId: relayed.grantId, txHash: relayed.txHash },
      'grant relayed',
    );
    await this.events.record(
      server.id,
      {
        type: 'grant.added',
        data: { grantId: relayed.grantId, appAddress: m.grantee, txHash: relayed.txHash },
      },
      `grant.added:${relayed.grantId}`,
    );
    return relayed;
  }

  async list(server: ServerEntity, query: GrantsQuery): Promise<Page<GrantView>> {
    const relayer = this.chain.relayer;
    const all = await this.call('', () =>
      relayer.listGrants({ grantor: ownerOf(server), serverId: server.id }),
    );
    const after = query.cursor === undefined ? undefined : BigInt(query.cursor);
    const rest = after === undefined ? all : all.filter((g) => BigInt(g.grantId) > after);
    const kept = rest.slice(0, query.limit);
    const hasMore = rest.length > query.limit;
    return { items: kept.map(toGrantView), nextCursor: hasMore ? kept[kept.length - 1].grantId : null };
  }

  async get(server: ServerEntity, grantId: string): Promise<GrantView> {
    // Checks ownership cheaply first; the list then gives the transaction that added it.
    await this.ownGrant(server, grantId);
    const relayer = this.chain.relayer;
    const all = await this.call('', () =>
      relayer.listGrants({ grantor: ownerOf(server), serverId: server.id }),
    );
    const found = all.find((g) => g.grantId === grantId);
    if (!found) throw grantNotFound();
    return toGrantView(found);
  }

  async revokeTypedData(
    server: ServerEntity,
    grantId: string,
  ): Promise<{ typedData: Jsonified<RevokeGrantTypedData> }> {
    const grant = await this.ownGrant(server, grantId);
    if (grant.revoked) throw new ProblemError(409, ErrorCode.conflict, `Grant ${grantId} is already revoked`);
    const relayer = this.chain.relayer;
    const typedData = await this.call('', () =>
      relayer.buildRevokeTypedData({ grantor: ownerOf(server), grantId }),
    );
    return { typedData: toJsonSafe(typedData) };
  }

  async relayRevoke(
    server: ServerEntity,
    grantId: string,
    body: SignedTypedDataBody,
  ): Promise<{ grantId: string; txHash: Hex }> {
    await this.ownGrant(server, grantId);
    const relayer = this.chain.relayer;
    rejectFields(unknownTypedDataKeys(body.typedData, 'RevokeGrant'));
    const parsed = parseRevokeGrantTypedData(body.typedData, expectedDomain(relayer));
    if (!parsed.ok) throw ProblemError.validation(prefixed('typedData.', parsed.errors));
    const m = parsed.typedData.message;
    if (m.grantId.toString(10) !== grantId) {
      throw ProblemError.validation([
        {
          field: 'typedData.message.grantId',
          code: 'wrong_grant',
          message: `must be ${grantId}, the grant in the path`,
        },
      ]);
    }
    if (m.grantor !== ownerOf(server)) {
      throw new ProblemError(403, ErrorCode.forbidden, "Only the server's owner can revoke its grants", [
        {
          field: 'typedData.message.grantor',
          code: 'not_owner',
          message: "must be the server owner's address",
        },
      ]);
    }
    await this.quotas.spendRelayedTransaction(server.ownerAccountId);
    const relayed = await this.call('typedData.', () => relayer.relayRevoke(body.typedData, body.signature));
    // This replica's pre-check refuses the grant from now on; the others within CHAIN_PRECHECK_HEAD_MAX_AGE_MS.
    this.chain.checker.invalidateGrant(grantId);
    this.logger.log({ serverId: server.id, grantId, txHash: relayed.txHash }, 'revocation relayed');
    await this.events.record(
      server.id,
      { type: 'grant.revoked', data: { grantId, txHash: relayed.txHash } },
      `grant.revoked:${grantId}`,
    );
    return relayed;
  }

  /* ---------------- policy ---------------- */

  async setPolicy(server: ServerEntity, body: PolicyBody): Promise<ServerView['policy']> {
    let policyAddress: string | null = null;
    if (body.kind === 'contract') {
      const address = getAddress(body.address);
      let ok: boolean;
      try {
        ok = await isVanaDataPermissionContract(this.policyClient(), address);
      } catch (err) {
        throw chainUnavailable(err);
      }
      if (!ok) {
        throw new ProblemError(
          400,
          ErrorCode.policy_invalid,
          `${address} is not a contract implementing IVanaDataPermission`,
          [
            {
              field: 'address',
              code: 'policy_invalid',
              message:
                'must be a contract answering owner(), authorized(address) and authorized(address,uint256)',
            },
          ],
        );
      }
      policyAddress = address.toLowerCase();
    }
    await this.servers.setPolicy(server.id, body.kind, policyAddress);
    this.logger.log({ serverId: server.id, policy: body.kind }, 'policy changed');
    return toServerView({ ...server, policyKind: body.kind, policyAddress }).policy;
  }

  /* ---------------- internals ---------------- */

  /** The grant when it exists and is this server's and its owner's; 404 otherwise (also for malformed ids). */
  private async ownGrant(server: ServerEntity, grantId: string): Promise<GrantRecord> {
    if (!GRANT_ID.test(grantId)) throw grantNotFound();
    const relayer = this.chain.relayer;
    const grant = await this.call('', () => relayer.getGrant(grantId));
    if (!grant || grant.grantor !== ownerOf(server) || grant.serverId !== server.id) throw grantNotFound();
    return grant;
  }

  /**
   * Catalog operations only, and only those this kind of server ever runs: a collective runs aggregate
   * operations alone, a personal server never has the k contributors an aggregate needs. A grant that could
   * never run is refused before it costs gas.
   */
  private requireCatalogOperations(server: ServerEntity, operations: readonly string[], field: string): void {
    const errors: FieldError[] = [];
    const wrongKind: FieldError[] = [];
    operations.forEach((name, i) => {
      const aggregate = this.catalogAggregate.get(name);
      if (aggregate === undefined) {
        errors.push({
          field: `${field}.${i}`,
          code: 'unknown_operation',
          message: `no operation named "${name}" in the catalog (GET /v1/operations/catalog)`,
        });
      } else if (aggregate !== (server.kind === 'collective')) {
        wrongKind.push({
          field: `${field}.${i}`,
          code: 'operation_not_allowed_for_server_kind',
          message: aggregate
            ? 'an aggregate operation runs on collectives only'
            : 'a collective runs aggregate operations only',
        });
      }
    });
    if (errors.length > 0) throw ProblemError.validation(errors);
    if (wrongKind.length > 0) {
      throw new ProblemError(
        400,
        ErrorCode.operation_not_allowed_for_server_kind,
        `A ${server.kind} server never runs ${wrongKind.length === 1 ? 'this operation' : 'these operations'}`,
        wrongKind,
      );
    }
  }

  /** 404 naming every listed file that is not a (ready) file of this server. */
  /**
   * A grant's scope: a personal server's files; a collective's datasets (or allFiles: every current
   * contribution), never its files: an app scoped to chosen files could difference aggregates.
   */
  private async requireScope(
    server: ServerEntity,
    fileIds: readonly string[] | undefined,
    datasetIds: readonly string[] | undefined,
    prefix: string,
  ): Promise<void> {
    const field = `${prefix}${prefix ? 'fileIds' : 'datasetIds'}`;
    if (server.kind !== 'collective') {
      if (datasetIds) {
        throw ProblemError.validation([
          { field, code: 'not_a_collective', message: 'datasets belong to collectives; name files' },
        ]);
      }
      await this.requireServerFiles(server.id, fileIds ?? [], `${prefix}fileIds`);
      return;
    }
    if (fileIds) {
      throw new ProblemError(
        400,
        ErrorCode.file_selection_not_allowed,
        "A collective's grants name datasets (datasetIds) or every current contribution (allFiles: true), never files",
        [
          {
            field: `${prefix}fileIds`,
            code: 'file_selection_not_allowed',
            message: 'name datasetIds or set allFiles: true',
          },
        ],
      );
    }
    const missing: FieldError[] = [];
    for (const [i, id] of (datasetIds ?? []).entries()) {
      if (!(await this.collectives.findDataset(server.id, id))) {
        missing.push({
          field: `${field}.${i}`,
          code: 'not_found',
          message: 'no such dataset on this collective',
        });
      }
    }
    if (missing.length > 0) {
      throw new ProblemError(
        404,
        ErrorCode.not_found,
        'Some listed datasets are not this collective’s',
        missing,
      );
    }
  }

  private async requireServerFiles(
    serverId: string,
    fileIds: readonly string[],
    field: string,
  ): Promise<void> {
    if (fileIds.length === 0) return;
    const present = new Set(await this.files.readyIds(serverId, [...new Set(fileIds)]));
    const missing: FieldError[] = [];
    fileIds.forEach((id, i) => {
      if (!present.has(id))
        missing.push({ field: `${field}.${i}`, code: 'not_found', message: 'no such file on this server' });
    });
    if (missing.length > 0) throw filesNotFound(missing);
  }

  private policyClient(): PublicClient {
    this.policyClientInstance ??= createHearthPublicClient({
      rpcUrl: this.config.CHAIN_RPC_URL,
      chainId: this.config.CHAIN_ID,
      timeoutMs: this.config.CHAIN_TIMEOUT_MS,
    });
    return this.policyClientInstance;
  }

  /** Runs a relayer call, turning its failures into problems (field names prefixed to match the body). */
  private async call<T>(prefix: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ProblemError) throw err;
      if (err instanceof PermissionsError) throw permissionsProblem(err, { prefix, logger: this.logger });
      if (err instanceof BaseError) throw chainUnavailable(err);
      throw err;
    }
  }
}

function ownerOf(server: ServerEntity): Address {
  return getAddress(server.ownerAddress);
}

function expectedDomain(relayer: GrantRelayer) {
  return {
    name: DATA_PERMISSIONS_DOMAIN_NAME,
    chainId: relayer.chainId,
    verifyingContract: relayer.dataPermissionsAddress,
  };
}

/** Parser field names are relative to the typed data; the body nests it under `typedData`. */
function prefixed(prefix: string, errors: readonly FieldError[]): FieldError[] {
  return errors.map((e) => ({
    field: prefix && e.field !== prefix.replace(/\.$/, '') ? `${prefix}${e.field}` : e.field,
    code: e.code,
    message: e.message,
  }));
}

function rejectFields(errors: FieldError[]): void {
  if (errors.length > 0) throw ProblemError.validation(errors);
}

function grantNotFound(): ProblemError {
  return new ProblemError(404, ErrorCode.grant_not_found, 'No such grant on this server');
}

function filesNotFound(errors: FieldError[]): ProblemError {
  return new ProblemError(404, ErrorCode.not_found, 'Some listed files are not files of this server', errors);
}

function chainUnavailable(err: unknown): ProblemError {
  const transport = err instanceof PermissionsError || isTransportError(err);
  return new ProblemError(
    503,
    ErrorCode.chain_unavailable,
    transport
      ? 'The chain RPC is unreachable; try again later'
      : 'The chain gave an unexpected answer; try again later',
  );
}
