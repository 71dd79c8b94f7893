import { Inject, Injectable, Logger } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import {
  AccessRequestRepository,
  type AccessRequestEntity,
  FileRepository,
  type Page,
  type ServerEntity,
  ServerRepository,
  toPage,
} from '@hearth/db';
import { ErrorCode, type FieldError, parseOrThrow, ProblemError } from '@hearth/errors';
import { isId, newId } from '@hearth/ids';
import { inferenceOptionsFromConfig, listCatalog } from '@hearth/inference';
import {
  DATA_PERMISSIONS_DOMAIN_NAME,
  type GrantTypedData,
  type Jsonified,
  parseGrantTypedData,
  uintToFileId,
} from '@hearth/permissions';
import { randomBytes } from 'node:crypto';
import { getAddress, type Hex, recoverTypedDataAddress } from 'viem';
import { normalizeOrigin } from '../auth/api-key-policy';
import { RateLimiter } from '../auth/rate-limiter';
import { newApiKeySecret } from '../auth/tokens';
import { Chain } from '../chain/chain.module';
import type { SignedTypedDataBody } from '../grants/grants.dto';
import { GrantsService } from '../grants/grants.service';
import {
  ACCESS_REQUEST_TYPES,
  type AccessRequestMessageJson,
  type AccessRequestTypedDataJson,
  accessRequestForSigning,
  accessRequestTypedData,
  appDomain,
  chainIdErrors,
  CLAIM_ACCESS_KEY_TYPES,
  type ClaimAccessKeyTypedDataJson,
  claimAccessKeyTypedData,
  claimForSigning,
  DEFAULT_APP_NAME,
} from './access-request.typed-data';
import {
  type AccessRequestTypedDataBody,
  type AccessRequestView,
  type AppSignedBody,
  type ApproveBody,
  type ListAccessRequestsQuery,
  statusOf,
  toAccessRequestView,
} from './access-requests.dto';
import { OwnerEvents } from '../events/owner-events';
import { checkReturnUrl, ReturnUrlNotifier } from './return-url';

/** How long an app has to file the typed data it was given, and the most it may give itself. */
const REQUEST_DEADLINE_SECONDS = 3600;
const MAX_REQUEST_DEADLINE_SECONDS = 86400;
/** A key claim is signed right before it is sent. */
const CLAIM_DEADLINE_SECONDS = 600;
const MAX_CLAIM_DEADLINE_SECONDS = 3600;

export interface ClaimedKey {
  keyId: string;
  key: string;
  grantId: string;
  serverId: string;
  serverAddress: `0x${string}`;
}

/**
 * Apps ask, owners decide. An app's request is its wallet's EIP-712 signature (attributable, unalterable);
 * approval is the owner's grant signature relayed as any grant, plus an API key for the app whose secret is
 * made only when the app claims it with a fresh signature, so the owner never handles it.
 */
@Injectable()
export class AccessRequestsService {
  private readonly logger = new Logger(AccessRequestsService.name);
  /** Operations a personal server runs: the catalog's per-person (non-aggregate) ones. */
  private readonly personalOperations: Set<string>;
  private readonly catalogOperations: Set<string>;
  private readonly production: boolean;

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    private readonly requests: AccessRequestRepository,
    private readonly servers: ServerRepository,
    private readonly files: FileRepository,
    private readonly grants: GrantsService,
    private readonly chain: Chain,
    private readonly limiter: RateLimiter,
    private readonly notifier: ReturnUrlNotifier,
    private readonly events: OwnerEvents,
  ) {
    const catalog = listCatalog(inferenceOptionsFromConfig(config));
    this.catalogOperations = new Set(catalog.map((o) => o.name));
    this.personalOperations = new Set(catalog.filter((o) => !o.aggregate).map((o) => o.name));
    this.production = config.NODE_ENV === 'production';
  }

  /* ---------------- the app ---------------- */

  async typedData(
    body: AccessRequestTypedDataBody,
    clientIp: string,
  ): Promise<{ typedData: AccessRequestTypedDataJson }> {
    await this.perIp(clientIp);
    const server = await this.targetServer(body.server, 'server');
    this.requireOperations(body.operations, 'operations');
    await this.requireFiles(server.id, body.fileIds ?? [], 'fileIds');
    const returnUrl = body.returnUrl ? checkReturnUrl(body.returnUrl, this.production, 'returnUrl') : '';
    const origins = (body.origins ?? []).map((o, i) => {
      const normalized = normalizeOrigin(o);
      if (!normalized) {
        throw ProblemError.validation([
          { field: `origins.${i}`, code: 'invalid_origin', message: 'must be scheme://host[:port]' },
        ]);
      }
      return normalized;
    });
    const nowSeconds = Math.floor(Date.now() / 1000);
    let expiresAt = 0;
    if (body.expiresAt) {
      expiresAt = Math.floor(new Date(body.expiresAt).getTime() / 1000);
      if (expiresAt <= nowSeconds) {
        throw ProblemError.validation([
          { field: 'expiresAt', code: 'expired', message: 'must be in the future' },
        ]);
      }
    }
    const message: AccessRequestMessageJson = {
      app: getAddress(body.appAddress),
      serverId: server.id,
      operations: [...new Set(body.operations)],
      fileIds: [...new Set(body.fileIds ?? [])],
      allFiles: body.allFiles === true,
      expiresAt: String(expiresAt),
      purpose: body.purpose,
      returnUrl,
      appName: body.appName ?? DEFAULT_APP_NAME,
      origins: [...new Set(origins)],
      nonce: `0x${randomBytes(32).toString('hex')}`,
      deadline: String(nowSeconds + REQUEST_DEADLINE_SECONDS),
    };
    return {
      typedData: {
        domain: appDomain(this.config.CHAIN_ID),
        types: ACCESS_REQUEST_TYPES,
        primaryType: 'AccessRequest',
        message,
      },
    };
  }

  /** Checks a signed request in full, then files it: nothing is stored unless every check passes. */
  async submit(
    body: AppSignedBody,
    clientIp: string,
  ): Promise<{ requestId: string; status: 'pending'; expiresAt: string }> {
    await this.perIp(clientIp);
    const td = parseOrThrow(
      accessRequestTypedData,
      body.typedData,
      'typedData',
    ) as AccessRequestTypedDataJson;
    rejectIfAny(chainIdErrors(td.domain.chainId, this.config.CHAIN_ID));
    const m = td.message;
    const signer = await recoverTypedDataAddress({
      domain: td.domain,
      types: ACCESS_REQUEST_TYPES,
      primaryType: 'AccessRequest',
      message: accessRequestForSigning(m),
      signature: body.signature as Hex,
    }).catch(() => null);
    if (signer !== getAddress(m.app)) throw signatureMismatch('typedData.message.app');
    // Counted per app only once the app is proven: nobody can spend another app's budget.
    await this.limiter.enforce(
      `access-request:app:${m.app.toLowerCase()}`,
      this.config.ACCESS_REQUEST_RATE_PER_MINUTE,
      'per app address',
    );
    checkDeadline(m.deadline, MAX_REQUEST_DEADLINE_SECONDS, 'typedData.message.deadline');
    const server = await this.targetServer(m.serverId, 'typedData.message.serverId');
    this.requireOperations(m.operations, 'typedData.message.operations');
    await this.requireFiles(server.id, m.fileIds, 'typedData.message.fileIds');
    if (m.returnUrl) checkReturnUrl(m.returnUrl, this.production, 'typedData.message.returnUrl');
    const expiresAt = BigInt(m.expiresAt);
    if (expiresAt !== 0n && expiresAt <= BigInt(Math.floor(Date.now() / 1000))) {
      throw ProblemError.validation([
        {
          field: 'typedData.message.expiresAt',
          code: 'expired',
          message: 'the grant would already be expired',
        },
      ]);
    }
    const filed = await this.persist(server.id, m, body.signature as Hex);
    return { requestId: filed.id, status: 'pending', expiresAt: filed.expiresAt.toISOString() };
  }

  /** The one place a request is stored, and where the owner's event feed learns of it. */
  private async persist(
    serverId: string,
    m: AccessRequestMessageJson,
    signature: Hex,
  ): Promise<AccessRequestEntity> {
    const expiresAtSeconds = BigInt(m.expiresAt);
    const filed = await this.requests.create(serverId, {
      id: newId('arq'),
      appAddress: m.app.toLowerCase(),
      appName: m.appName,
      operations: [...new Set(m.operations)],
      fileIds: [...new Set(m.fileIds)],
      allFiles: m.allFiles,
      grantExpiresAt: expiresAtSeconds === 0n ? null : new Date(Number(expiresAtSeconds) * 1000),
      purpose: m.purpose,
      returnUrl: m.returnUrl || null,
      origins: m.origins.length > 0 ? [...new Set(m.origins)] : null,
      nonce: Buffer.from(m.nonce.slice(2), 'hex'),
      signature: Buffer.from(signature.slice(2), 'hex'),
      expiresAt: new Date(Date.now() + this.config.ACCESS_REQUEST_TTL_SECONDS * 1000),
    });
    if (!filed) {
      throw new ProblemError(
        409,
        ErrorCode.access_request_replayed,
        'This signed request was filed before: ask for fresh typed data (a new nonce)',
        [{ field: 'typedData.message.nonce', code: 'used', message: 'nonce already used' }],
      );
    }
    this.logger.log({ serverId, requestId: filed.id }, 'access request filed');
    await this.events.record(serverId, {
      type: 'access_request.filed',
      data: { requestId: filed.id, appAddress: filed.appAddress },
    });
    return filed;
  }

  async status(requestId: string): Promise<AccessRequestView> {
    const request = await this.byId(requestId);
    return toAccessRequestView(request, await this.serverAddress(request.serverId));
  }

  async claimTypedData(
    requestId: string,
    clientIp: string,
  ): Promise<{ typedData: ClaimAccessKeyTypedDataJson }> {
    await this.perIp(clientIp);
    const request = await this.byId(requestId);
    return {
      typedData: {
        domain: appDomain(this.config.CHAIN_ID),
        types: CLAIM_ACCESS_KEY_TYPES,
        primaryType: 'ClaimAccessKey',
        message: {
          requestId: request.id,
          nonce: `0x${randomBytes(32).toString('hex')}`,
          deadline: String(Math.floor(Date.now() / 1000) + CLAIM_DEADLINE_SECONDS),
        },
      },
    };
  }

  /** The approved request's key, to the wallet that asked for it, once. */
  async claim(requestId: string, body: AppSignedBody, clientIp: string): Promise<ClaimedKey> {
    await this.perIp(clientIp);
    const td = parseOrThrow(
      claimAccessKeyTypedData,
      body.typedData,
      'typedData',
    ) as ClaimAccessKeyTypedDataJson;
    rejectIfAny(chainIdErrors(td.domain.chainId, this.config.CHAIN_ID));
    if (td.message.requestId !== requestId) {
      throw ProblemError.validation([
        { field: 'typedData.message.requestId', code: 'wrong_request', message: `must be ${requestId}` },
      ]);
    }
    checkDeadline(td.message.deadline, MAX_CLAIM_DEADLINE_SECONDS, 'typedData.message.deadline');
    const request = await this.byId(requestId);
    const signer = await recoverTypedDataAddress({
      domain: td.domain,
      types: CLAIM_ACCESS_KEY_TYPES,
      primaryType: 'ClaimAccessKey',
      message: claimForSigning(td.message),
      signature: body.signature as Hex,
    }).catch(() => null);
    if (signer !== getAddress(request.appAddress)) throw signatureMismatch('signature');
    if (request.keyClaimedAt) throw alreadyClaimed();
    if (request.status !== 'approved') throw notApproved(statusOf(request));
    const secret = newApiKeySecret();
    const claimed = await this.requests.claimKey(request.serverId, request.id, {
      secretHash: secret.hash,
      secretPrefix: secret.prefix,
    });
    if (!claimed) {
      const now = await this.requests.findById(request.id);
      if (now?.keyClaimedAt) throw alreadyClaimed();
      throw new ProblemError(
        409,
        ErrorCode.access_request_not_approved,
        'The key of this request was revoked',
      );
    }
    this.logger.log({ serverId: request.serverId, requestId, keyId: claimed.keyId }, 'access key claimed');
    return {
      keyId: claimed.keyId,
      key: secret.key,
      grantId: request.grantId ?? '',
      serverId: request.serverId,
      serverAddress: getAddress(await this.serverAddress(request.serverId)),
    };
  }

  /* ---------------- the owner (the server is already checked to be the caller's) ---------------- */

  async list(server: ServerEntity, query: ListAccessRequestsQuery): Promise<Page<AccessRequestView>> {
    const rows = await this.requests.list(server.id, query);
    return toPage(rows, query.limit, (r) => toAccessRequestView(r, server.address));
  }

  async get(server: ServerEntity, requestId: string): Promise<AccessRequestView> {
    return toAccessRequestView(await this.own(server, requestId), server.address);
  }

  /** The grant typed data for what was requested (or less, when the owner narrows it). */
  async approveTypedData(
    server: ServerEntity,
    requestId: string,
    body: ApproveBody,
  ): Promise<{ typedData: Jsonified<GrantTypedData> }> {
    const request = this.requirePending(await this.own(server, requestId));
    const errors: FieldError[] = [];
    (body.operations ?? []).forEach((op, i) => {
      if (!request.operations.includes(op)) errors.push(notRequested(`operations.${i}`, 'operation'));
    });
    (body.fileIds ?? []).forEach((id, i) => {
      if (!request.allFiles && !request.fileIds.includes(id))
        errors.push(notRequested(`fileIds.${i}`, 'file'));
    });
    if (body.expiresAt && request.grantExpiresAt && new Date(body.expiresAt) > request.grantExpiresAt) {
      errors.push({ field: 'expiresAt', code: 'not_requested', message: 'must not be later than requested' });
    }
    rejectIfAny(errors);
    const fileIds = body.fileIds ?? (request.allFiles ? undefined : request.fileIds);
    return this.grants.grantTypedData(server, {
      appAddress: request.appAddress,
      operations: body.operations ?? request.operations,
      ...(fileIds ? { fileIds } : { allFiles: true }),
      expiresAt: body.expiresAt ?? request.grantExpiresAt?.toISOString(),
    });
  }

  /** Relays the owner-signed grant, then marks the request approved and creates the app's key (no secret yet). */
  async grant(
    server: ServerEntity,
    requestId: string,
    body: SignedTypedDataBody,
  ): Promise<{ grantId: string; txHash: Hex; keyId: string }> {
    const request = this.requirePending(await this.own(server, requestId));
    const granted = this.grantedScope(request, body);
    const relayed = await this.grants.relayGrant(server, body);
    // A secret nobody sees: the app's claim replaces it with the one it receives.
    const placeholder = newApiKeySecret();
    const keyId = newId('key');
    const approved = await this.requests.approveWithKey(server.id, request.id, relayed.grantId, {
      id: keyId,
      name: request.appName,
      appAddress: request.appAddress,
      secretHash: placeholder.hash,
      secretPrefix: placeholder.prefix,
      operations: granted.operations,
      origins: request.origins,
      ratePerMinute: this.config.DEFAULT_RATE_PER_MINUTE,
    });
    if (!approved) {
      // Decided or lapsed while the grant was mined: the grant stands on-chain; the owner may revoke it.
      this.logger.warn(
        { serverId: server.id, requestId, grantId: relayed.grantId },
        'grant relayed for a request no longer pending',
      );
      throw new ProblemError(
        409,
        ErrorCode.access_request_not_pending,
        `The request was decided or lapsed meanwhile; grant ${relayed.grantId} was added and can be revoked`,
      );
    }
    this.logger.log(
      { serverId: server.id, requestId, grantId: relayed.grantId, keyId },
      'access request approved',
    );
    void this.notifier.notify(request.returnUrl, { requestId: request.id, status: 'approved' });
    return { grantId: relayed.grantId, txHash: relayed.txHash, keyId };
  }

  async deny(server: ServerEntity, requestId: string): Promise<{ status: 'denied' }> {
    const request = this.requirePending(await this.own(server, requestId));
    const denied = await this.requests.deny(server.id, request.id);
    if (!denied) throw notPending();
    this.logger.log({ serverId: server.id, requestId }, 'access request denied');
    void this.notifier.notify(request.returnUrl, { requestId: request.id, status: 'denied' });
    return { status: 'denied' };
  }

  /* ---------------- internals ---------------- */

  /**
   * The signed grant names this request's app and no more than it asked for. Typed data the grant parser refuses
   * is left to the grants flow, which names every bad field.
   */
  private grantedScope(request: AccessRequestEntity, body: SignedTypedDataBody): { operations: string[] } {
    const relayer = this.chain.relayer;
    const parsed = parseGrantTypedData(body.typedData, {
      name: DATA_PERMISSIONS_DOMAIN_NAME,
      chainId: relayer.chainId,
      verifyingContract: relayer.dataPermissionsAddress,
    });
    if (!parsed.ok) return { operations: request.operations };
    const m = parsed.typedData.message;
    const errors: FieldError[] = [];
    if (getAddress(m.grantee) !== getAddress(request.appAddress)) {
      errors.push({
        field: 'typedData.message.grantee',
        code: 'not_requested',
        message: "must be the requesting app's address",
      });
    }
    m.operations.forEach((op, i) => {
      if (!request.operations.includes(op))
        errors.push(notRequested(`typedData.message.operations.${i}`, 'operation'));
    });
    if (m.allFiles && !request.allFiles) {
      errors.push({
        field: 'typedData.message.allFiles',
        code: 'not_requested',
        message: 'the app asked for listed files',
      });
    }
    if (!request.allFiles) {
      m.fileIds.forEach((n, i) => {
        const id = n < 1n << 128n ? uintToFileId(n) : '';
        if (!request.fileIds.includes(id))
          errors.push(notRequested(`typedData.message.fileIds.${i}`, 'file'));
      });
    }
    if (request.grantExpiresAt) {
      const limit = BigInt(Math.floor(request.grantExpiresAt.getTime() / 1000));
      if (m.expiresAt === 0n || m.expiresAt > limit) {
        errors.push({
          field: 'typedData.message.expiresAt',
          code: 'not_requested',
          message: 'must not be later than the app asked',
        });
      }
    }
    rejectIfAny(errors);
    return { operations: [...new Set(m.operations)] };
  }

  private async own(server: ServerEntity, requestId: string): Promise<AccessRequestEntity> {
    const found = isId('arq', requestId) ? await this.requests.find(server.id, requestId) : null;
    if (!found) throw ProblemError.notFound('access request');
    return found;
  }

  private async byId(requestId: string): Promise<AccessRequestEntity> {
    const found = isId('arq', requestId) ? await this.requests.findById(requestId) : null;
    if (!found) throw ProblemError.notFound('access request');
    return found;
  }

  private requirePending(request: AccessRequestEntity): AccessRequestEntity {
    const status = statusOf(request);
    if (status === 'expired') {
      throw new ProblemError(
        410,
        ErrorCode.access_request_expired,
        `The request lapsed at ${request.expiresAt.toISOString()}`,
      );
    }
    if (status !== 'pending') throw notPending(status);
    return request;
  }

  private async serverAddress(serverId: string): Promise<string> {
    const server = await this.servers.findById(serverId);
    if (!server) throw ProblemError.notFound('access request'); // its server was deleted (cascade follows)
    return server.address;
  }

  /** A personal server by id or by its owner's wallet; 404 naming `field` otherwise. */
  private async targetServer(ref: string, field: string): Promise<ServerEntity> {
    const server = ref.startsWith('srv_')
      ? await this.servers.findById(ref)
      : await this.servers.findPersonalByOwnerAddress(ref);
    if (!server) {
      throw new ProblemError(404, ErrorCode.not_found, 'No such server', [
        { field, code: 'not_found', message: 'no such server (or no personal server of that owner)' },
      ]);
    }
    if (server.kind !== 'personal') {
      throw new ProblemError(
        400,
        ErrorCode.access_request_not_supported,
        "Access requests are for personal servers; a collective's admins grant apps themselves",
        [{ field, code: 'not_personal', message: 'must be a personal server' }],
      );
    }
    return server;
  }

  private requireOperations(operations: readonly string[], field: string): void {
    const errors: FieldError[] = [];
    operations.forEach((name, i) => {
      if (!this.catalogOperations.has(name)) {
        errors.push({
          field: `${field}.${i}`,
          code: 'unknown_operation',
          message: `no operation named "${name}" in the catalog (GET /v1/operations/catalog)`,
        });
      } else if (!this.personalOperations.has(name)) {
        errors.push({
          field: `${field}.${i}`,
          code: 'operation_not_allowed_for_server_kind',
          message: 'an aggregate operation runs on collectives only',
        });
      }
    });
    rejectIfAny(errors);
  }

  private async requireFiles(serverId: string, fileIds: readonly string[], field: string): Promise<void> {
    if (fileIds.length === 0) return;
    const present = new Set(await this.files.readyIds(serverId, [...new Set(fileIds)]));
    const missing: FieldError[] = [];
    fileIds.forEach((id, i) => {
      if (!present.has(id))
        missing.push({ field: `${field}.${i}`, code: 'not_found', message: 'no such file on this server' });
    });
    if (missing.length > 0)
      throw new ProblemError(
        404,
        ErrorCode.not_found,
        'Some listed files are not files of this server',
        missing,
      );
  }

  private async perIp(clientIp: string): Promise<void> {
    await this.limiter.enforce(
      `access-request:ip:${clientIp}`,
      this.config.ACCESS_REQUEST_RATE_PER_MINUTE,
      'per client IP',
    );
  }
}

function rejectIfAny(errors: FieldError[]): void {
  if (errors.length > 0) throw ProblemError.validation(errors);
}

/** The deadline is ahead, and not further than `maxSeconds`. */
function checkDeadline(deadline: string, maxSeconds: number, field: string): void {
  const now = BigInt(Math.floor(Date.now() / 1000));
  const d = BigInt(deadline);
  if (d <= now)
    throw ProblemError.validation([{ field, code: 'expired', message: 'the deadline has passed' }]);
  if (d > now + BigInt(maxSeconds)) {
    throw ProblemError.validation([
      { field, code: 'too_far', message: `must be at most ${maxSeconds} seconds ahead` },
    ]);
  }
}

function signatureMismatch(expected: string): ProblemError {
  return new ProblemError(400, ErrorCode.signature_mismatch, `The signature does not recover ${expected}`, [
    {
      field: 'signature',
      code: 'signature_mismatch',
      message: "must be the requesting app wallet's signature",
    },
  ]);
}

function notRequested(field: string, what: string): FieldError {
  return { field, code: 'not_requested', message: `the app did not ask for this ${what}` };
}

function notPending(status = 'decided'): ProblemError {
  return new ProblemError(
    409,
    ErrorCode.access_request_not_pending,
    `The request is ${status}, no longer pending`,
  );
}

function notApproved(status: string): ProblemError {
  return new ProblemError(
    409,
    ErrorCode.access_request_not_approved,
    `The request is ${status}: no key to claim`,
  );
}

function alreadyClaimed(): ProblemError {
  return new ProblemError(
    409,
    ErrorCode.already_claimed,
    "This request's key was delivered already; it is shown once",
  );
}
