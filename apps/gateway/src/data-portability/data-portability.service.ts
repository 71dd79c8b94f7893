import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { fileChunkAad } from '@hearth/blobs';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { decryptChunks, encryptChunks, sha256Bytes32 } from '@hearth/crypto';
import {
  AccessLogRepository,
  DataPortabilityRepository,
  type DpDocumentEntity,
  type FileEntity,
  QuotaExceededError,
  type ServerEntity,
  ServerRepository,
  SessionRepository,
} from '@hearth/db';
import { ErrorCode } from '@hearth/errors';
import { isId, newId } from '@hearth/ids';
import { inferenceOptionsFromConfig, listCatalog } from '@hearth/inference';
import { DataKeyCache, fileKeyContext, type KeyManager } from '@hearth/kms';
import {
  DataPortabilityRegistry,
  KnownSigners,
  parseGrantId,
  parseWeb3Signed,
  type RegistryGrant,
  RegistryUnavailableError,
  scopeGranted,
  Web3SignedError,
} from '@hearth/permissions';
import { inputsHash, parametersHash } from '@hearth/receipts';
import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import { getAddress, type Hex } from 'viem';
import { RateLimiter } from '../auth/rate-limiter';
import { bearerOf, sha256 } from '../auth/tokens';
import { REDIS } from '../infra/infra.module';
import { KEY_MANAGER } from '../keys/key-manager.token';
import { MetadataSealer, type ServerSeal } from '../keys/metadata-sealer';
import { QuotasService } from '../quotas/quotas.service';
import { DpError, dpUnavailable } from './dp-error';
import { DpGatewayClient } from './dp-gateway.client';
import { validateJsonSchema } from './json-schema';
import { ReceiptSigner } from './receipt-signer';
import { ReplayGuard, verifyWeb3SignedRequest, web3SignedProblem } from './web3-signed';

/** What a protocol route knows of its request. */
export interface DpRequest {
  serverId: string;
  method: string;
  /** The request-target as received (path and query string). */
  uri: string;
  /** The Host header (per-server host names). */
  host: string | undefined;
  authorization: string | undefined;
  /** The client's address (TRUST_PROXY decides whose): Web3Signed attempts are limited per IP. */
  ip: string;
  body?: Buffer;
}

/** Who is calling: the owner (session or Web3Signed by the owner's wallet) or a builder (Web3Signed). */
export type DpCaller =
  | { kind: 'owner'; address: Hex }
  | { kind: 'builder'; address: Hex; grantId: string | undefined; blockNumber?: bigint };

const SCOPE = /^[a-z0-9_-]{1,64}(\.[a-z0-9_-]{1,64}){1,3}$/;
const DATA_FILE_VERSION = '1.0';
const SERVER_ROW_MS = 1000;
const ZERO32: Hex = `0x${'0'.repeat(64)}`;
const ZERO_ADDRESS: Hex = `0x${'0'.repeat(40)}`;

export function parseScope(raw: string): string {
  if (raw.length > 160 || !SCOPE.test(raw)) {
    throw new DpError(400, ErrorCode.dp_scope_invalid, `"${raw.slice(0, 64)}" is not a scope`, 400, {
      field: 'scope',
    });
  }
  return raw;
}

/** A scope version's id on the wire: its Hearth file id (each version is a file). */
function versionView(d: DpDocumentEntity): { fileId: string; schemaId: null; collectedAt: string } {
  return { fileId: d.fileId, schemaId: null, collectedAt: d.collectedAt.toISOString() };
}

/**
 * The Data Portability Protocol's Personal Server API for each hosted server: scope documents stored as Hearth
 * files (encrypted on arrival, names sealed), Web3Signed builder requests checked against the protocol's
 * registries, Hearth's readable-scope default, and an access-log row with a signed receipt for every builder
 * read or refusal.
 */
@Injectable()
export class DataPortabilityService implements OnModuleDestroy {
  readonly registry: DataPortabilityRegistry | null;
  private readonly gateway: DpGatewayClient | null;
  private readonly replay: ReplayGuard;
  private readonly known = new KnownSigners();
  private readonly fileKeys: DataKeyCache;
  private readonly operations: string[];
  private readonly serverRows = new Map<string, { at: number; server: ServerEntity }>();

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    @Inject(REDIS) redis: Redis,
    @Inject(KEY_MANAGER) private readonly keys: KeyManager,
    private readonly servers: ServerRepository,
    private readonly sessions: SessionRepository,
    private readonly dp: DataPortabilityRepository,
    private readonly accessLog: AccessLogRepository,
    private readonly sealer: MetadataSealer,
    private readonly receipts: ReceiptSigner,
    private readonly quotas: QuotasService,
    private readonly limiter: RateLimiter,
  ) {
    this.registry = config.dataPortability
      ? new DataPortabilityRegistry({
          rpcUrl: config.CHAIN_RPC_URL,
          chainId: config.CHAIN_ID,
          addresses: config.dataPortability,
          timeoutMs: config.CHAIN_TIMEOUT_MS,
          cacheMs: config.DP_REGISTRY_CACHE_MS,
        })
      : null;
    this.gateway = config.DP_GATEWAY_URL
      ? new DpGatewayClient(config.DP_GATEWAY_URL, config.DP_GATEWAY_TIMEOUT_MS)
      : null;
    this.replay = new ReplayGuard(redis, `${config.QUEUE_PREFIX}:dp:seen:`);
    this.fileKeys = new DataKeyCache(config.METADATA_KEY_CACHE_SECONDS * 1000, 10_000);
    this.operations = listCatalog(inferenceOptionsFromConfig(config)).map((o) => o.name);
  }

  onModuleDestroy(): void {
    this.fileKeys.clear();
  }

  get maxDocumentBytes(): number {
    return this.config.DP_MAX_DOCUMENT_BYTES;
  }

  /**
   * The personal server the route names; collectives and unknown ids are 404. A found row is reused for a second:
   * what the protocol routes use of it (owner, address, keys) never changes, and a deleted server's data is gone
   * with it (its files cascade), so a row a second old serves nothing it should not.
   */
  async server(serverId: string): Promise<ServerEntity> {
    const now = Date.now();
    const hit = this.serverRows.get(serverId);
    if (hit && now - hit.at < SERVER_ROW_MS) return hit.server;
    const server = isId('srv', serverId) ? await this.servers.findById(serverId) : null;
    if (!server || server.kind !== 'personal') {
      throw new DpError(404, ErrorCode.not_found, 'No such personal server', 404);
    }
    if (this.serverRows.size >= 10_000) this.serverRows.clear();
    this.serverRows.set(serverId, { at: now, server });
    return server;
  }

  /** The origins a Web3Signed `aud` may name for this server: its own host name's, else Hearth's. */
  audiences(serverId: string, host: string | undefined): readonly string[] {
    const suffix = this.config.DP_HOST_SUFFIX;
    if (suffix && host?.toLowerCase() === `${serverId}${suffix}`) {
      const scheme = this.config.PUBLIC_URL ? new URL(this.config.PUBLIC_URL).protocol : 'http:';
      return [`${scheme}//${host.toLowerCase()}`];
    }
    return this.config.siweOrigins;
  }

  // ---- authentication ----

  /** Owner routes: an owner session (Bearer) or Web3Signed by the owner's wallet. */
  async owner(server: ServerEntity, req: DpRequest): Promise<DpCaller & { kind: 'owner' }> {
    const caller = await this.authenticate(server, req);
    if (caller.kind !== 'owner') {
      throw new DpError(403, ErrorCode.dp_not_owner, "This route is the server owner's", 403);
    }
    return caller;
  }

  /**
   * Any caller: the owner (session or signature), or a builder by Web3Signed. A signature is checked against the
   * grantee of its grant when that grant is already cached (no registry read before the signature is known good),
   * and its payload is accepted once.
   */
  async authenticate(server: ServerEntity, req: DpRequest): Promise<DpCaller> {
    const bearer = bearerOf(req.authorization);
    if (bearer) {
      const session = await this.sessions.findActive(sha256(bearer));
      if (!session)
        throw new DpError(401, ErrorCode.invalid_session, 'The session is unknown or expired', 401);
      if (session.accountId !== server.ownerAccountId) {
        throw new DpError(403, ErrorCode.dp_not_owner, "This route is the server owner's", 403);
      }
      // The same bucket as the owner routes: an account's sessions share one limit wherever they are used.
      await this.limiter.enforce(
        `account:${session.accountId}`,
        this.config.SESSION_RATE_PER_MINUTE,
        'per signed-in account',
      );
      return { kind: 'owner', address: getAddress(session.address) };
    }
    // Before anything is parsed or recovered: a flood of made-up signatures costs its sender its IP's limit.
    await this.limiter.enforce(`dp:ip:${req.ip}`, this.config.DP_RATE_PER_MINUTE_PER_IP, 'per client IP');
    let expected: Hex | undefined;
    try {
      const { payload } = parseWeb3Signed(req.authorization);
      const grantId = payload.grantId === undefined ? null : parseGrantId(payload.grantId);
      expected =
        (grantId !== null ? this.registry?.peekGrant(grantId)?.granteeAddress : undefined) ?? undefined;
      expected ??= getAddress(server.ownerAddress);
    } catch (err) {
      if (err instanceof Web3SignedError) throw web3SignedProblem(err);
      throw err;
    }
    const verified = verifyWeb3SignedRequest({
      authorization: req.authorization,
      method: req.method,
      uri: req.uri,
      body: req.body,
      audiences: this.audiences(server.id, req.host),
      skewSeconds: this.config.DP_AUTH_SKEW_SECONDS,
      expectedSigner: expected,
      knownSigners: this.known,
    });
    await this.limiter.enforce(
      `dp:signer:${server.id}:${verified.signer.toLowerCase()}`,
      this.config.DP_RATE_PER_MINUTE,
      'per signer on this server',
    );
    await this.replay.acceptOnce(verified, this.config.DP_AUTH_SKEW_SECONDS);
    if (verified.signer.toLowerCase() === server.ownerAddress.toLowerCase()) {
      return { kind: 'owner', address: verified.signer };
    }
    return { kind: 'builder', address: verified.signer, grantId: verified.payload.grantId };
  }

  /** A builder on a route that needs no grant must be a registered builder (DataPortabilityGrantees). */
  async requireRegisteredBuilder(caller: DpCaller): Promise<void> {
    if (caller.kind !== 'builder') return;
    const id = await this.registryCall((r) => r.granteeId(caller.address));
    if (id === 0n) {
      throw new DpError(
        401,
        ErrorCode.dp_builder_unregistered,
        'The signer is not a registered builder',
        401,
      );
    }
  }

  // ---- owner ingest, listing, deletion ----

  async ingest(
    server: ServerEntity,
    scope: string,
    body: Buffer,
    contentType: string | undefined,
  ): Promise<{ scope: string; collectedAt: string; status: 'stored'; fileId: string }> {
    if ((contentType ?? '').split(';')[0].trim().toLowerCase() !== 'application/json') {
      throw new DpError(415, ErrorCode.unsupported_media_type, 'Send the document as application/json', 415, {
        field: 'Content-Type',
      });
    }
    let data: unknown;
    try {
      data = JSON.parse(body.toString('utf8'));
    } catch {
      throw new DpError(400, ErrorCode.malformed_json, 'The body is not valid JSON', 400, { field: 'body' });
    }
    let schemaUrl: string | undefined;
    if (this.gateway) {
      const schema = await this.gateway.schemaFor(scope);
      if (!schema) {
        throw new DpError(400, ErrorCode.dp_schema_not_found, `No schema is registered for ${scope}`, 400, {
          scope,
        });
      }
      const errors = validateJsonSchema(schema.definition, data);
      if (errors.length > 0) {
        throw new DpError(400, ErrorCode.dp_schema_mismatch, 'The document does not match its schema', 400, {
          errors,
          schemaId: schema.schemaId,
        });
      }
      schemaUrl = schema.url;
    }
    const collectedAt = new Date();
    const envelope = {
      ...(schemaUrl ? { $schema: schemaUrl } : {}),
      version: DATA_FILE_VERSION,
      scope,
      collectedAt: collectedAt.toISOString(),
      data,
    };
    const plaintext = Buffer.from(JSON.stringify(envelope), 'utf8');
    const fileId = newId('fil');
    const seal = await this.sealer.forServer(server);
    const dataKey = await this.keys.generateDataKey(server.kmsKeyRef, fileKeyContext(server.id, fileId));
    try {
      const chunks = encryptChunks(dataKey.plaintext, fileChunkAad(server.id, fileId), plaintext);
      const hash = createHash('sha256');
      await this.dp.uploadDocument(
        server.id,
        {
          id: fileId,
          sealedName: seal.seal('file.name', fileId, `${scope}/${envelope.collectedAt}.json`),
          sealedContentType: seal.seal('file.contentType', fileId, 'application/json'),
          encryption: 'server',
          wrappedDataKey: dataKey.wrapped,
          kmsKeyRef: null,
          contributorAddress: server.ownerAddress.toLowerCase(),
        },
        {
          scopeDigest: this.scopeDigest(seal, scope),
          sealedScope: seal.seal('dp.scope', fileId, scope),
          collectedAt,
        },
        async (writer) => {
          for (const c of chunks) {
            hash.update(c.sealed);
            await writer.put(c.sealed);
          }
          return { size: plaintext.length, ciphertextSha256: hash.digest('hex') };
        },
        this.quotas.storageBytesPerServer,
      );
    } catch (err) {
      if (err instanceof QuotaExceededError) {
        throw new DpError(413, ErrorCode.quota_exceeded, 'The server is out of storage', 413);
      }
      throw err;
    } finally {
      dataKey.plaintext.fill(0);
      plaintext.fill(0);
    }
    return { scope, collectedAt: envelope.collectedAt, status: 'stored', fileId };
  }

  /** Every scope with its latest version; a builder sees only the scopes its live grants from the owner cover. */
  async listScopes(
    server: ServerEntity,
    caller: DpCaller,
    page: { scopePrefix?: string; limit: number; offset: number },
  ): Promise<{
    scopes: Array<{ scope: string; latestCollectedAt: string; versionCount: number; latestFileId: string }>;
    total: number;
    limit: number;
    offset: number;
  }> {
    const seal = await this.sealer.forServer(server);
    const granted = caller.kind === 'builder' ? await this.liveScopesOf(server, caller.address) : null;
    const all = (await this.dp.scopes(server.id))
      .map((s) => ({
        scope: seal.open('dp.scope', s.latest.fileId, s.latest.sealedScope),
        latestCollectedAt: s.latest.collectedAt.toISOString(),
        versionCount: s.versions,
        latestFileId: s.latest.fileId,
      }))
      .filter(
        (s) =>
          !page.scopePrefix || s.scope === page.scopePrefix || s.scope.startsWith(`${page.scopePrefix}.`),
      )
      .filter((s) => !granted || scopeGranted(s.scope, granted))
      .sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
    return {
      scopes: all.slice(page.offset, page.offset + page.limit),
      total: all.length,
      limit: page.limit,
      offset: page.offset,
    };
  }

  async versions(
    server: ServerEntity,
    caller: DpCaller,
    scope: string,
    page: { limit: number; offset: number },
  ): Promise<{
    scope: string;
    versions: ReturnType<typeof versionView>[];
    total: number;
    limit: number;
    offset: number;
  }> {
    if (caller.kind === 'builder' && !scopeGranted(scope, await this.liveScopesOf(server, caller.address))) {
      throw new DpError(403, ErrorCode.dp_scope_not_granted, 'Scope not granted', 412, {
        requestedScope: scope,
      });
    }
    const seal = await this.sealer.forServer(server);
    const { items, total } = await this.dp.versions(server.id, this.scopeDigest(seal, scope), page);
    return { scope, versions: items.map(versionView), total, limit: page.limit, offset: page.offset };
  }

  async deleteScope(server: ServerEntity, scope: string): Promise<{ scope: string; deletedCount: number }> {
    const seal = await this.sealer.forServer(server);
    const deletedCount = await this.dp.deleteScope(server.id, this.scopeDigest(seal, scope));
    if (deletedCount === 0) throw new DpError(404, ErrorCode.dp_data_not_found, `No data for ${scope}`, 404);
    return { scope, deletedCount };
  }

  // ---- reads ----

  /**
   * A read of one version. The owner reads any scope. A builder needs a grant (spec §4.1.9, §7.3: its grantee is the
   * signer, its grantor the owner, not revoked, not expired, the scope within it) and, Hearth's default, the owner's
   * mark that the scope is readable. Every builder read or refusal past authentication is logged with a receipt.
   */
  async read(
    server: ServerEntity,
    caller: DpCaller,
    scope: string,
    select: { fileId?: string; at?: Date },
  ): Promise<{ body: Buffer; receiptHash?: string; logId?: string }> {
    const seal = await this.sealer.forServer(server);
    const digest = this.scopeDigest(seal, scope);
    if (caller.kind === 'owner') {
      const found = await this.dp.read(server.id, digest, select);
      if (!found.file || !found.document) throw this.noData(scope);
      const body = await this.open(server, found.file, found.chunks);
      // Every decryption of tenant data is logged, the owner's own reads too (as downloads are).
      await this.accessLog.append(server.id, {
        operationId: null,
        actor: caller.address.toLowerCase(),
        apiKeyId: null,
        grantId: null,
        operation: 'dp.read',
        fileIds: [found.file.id],
        outcome: 'read',
        code: null,
        blockNumber: null,
        receiptHash: null,
      });
      return { body };
    }
    let grant: RegistryGrant | null = null;
    try {
      grant = await this.checkGrant(server, caller, scope);
      const found = await this.dp.read(server.id, digest, select);
      if (!found.readable) throw this.notReadable(scope, found.file);
      if (!found.file || !found.document) throw this.noData(scope);
      const body = await this.open(server, found.file, found.chunks);
      const logged = await this.log(server, seal, caller, scope, grant, {
        outcome: 'read',
        file: found.file,
        body,
      });
      return { body, ...logged };
    } catch (err) {
      if (err instanceof DpError && err.status < 500) {
        const logged = await this.log(server, seal, caller, scope, grant, {
          outcome: 'denied',
          code: err.code,
        });
        err.details.receiptHash = logged.receiptHash;
      }
      throw err;
    }
  }

  /** The grant checks of a builder read, in the spec's order; returns the grant. */
  private async checkGrant(
    server: ServerEntity,
    caller: DpCaller & { kind: 'builder' },
    scope: string,
  ): Promise<RegistryGrant> {
    if (caller.grantId === undefined) {
      throw new DpError(
        403,
        ErrorCode.dp_grant_required,
        'A raw data read needs grantId in the signed payload',
        403,
      );
    }
    const grantId = parseGrantId(caller.grantId);
    const grant = grantId === null ? null : await this.registryCall((r) => r.grant(grantId));
    if (!grant)
      throw new DpError(403, ErrorCode.dp_grant_not_found, 'No such grant', 403, { grantId: caller.grantId });
    this.checkLive(server, caller.address, grant, scope);
    return grant;
  }

  /** §7.3: grantee = signer, grantor = owner, not revoked (end block), not expired, scope granted. */
  private checkLive(server: ServerEntity, signer: Hex, grant: RegistryGrant, scope?: string): void {
    const grantId = grant.id.toString(10);
    if (!grant.granteeAddress || grant.granteeAddress.toLowerCase() !== signer.toLowerCase()) {
      throw new DpError(401, ErrorCode.dp_grant_wrong_grantee, "The signer is not the grant's grantee", 401, {
        grantId,
      });
    }
    if (grant.grantor.toLowerCase() !== server.ownerAddress.toLowerCase()) {
      throw new DpError(
        403,
        ErrorCode.dp_grant_wrong_owner,
        "The grant is not from this server's owner",
        403,
        { grantId },
      );
    }
    if (grant.endBlock <= grant.blockNumber) {
      throw new DpError(403, ErrorCode.dp_grant_revoked, 'Grant revoked', 410, {
        grantId,
        endBlock: grant.endBlock.toString(10),
      });
    }
    const doc = grant.document;
    if (!doc || doc.user.toLowerCase() !== grant.grantor.toLowerCase()) {
      throw new DpError(403, ErrorCode.dp_scope_not_granted, 'The grant names no scopes of this user', 412, {
        grantId,
      });
    }
    if (doc.expiresAt !== 0 && doc.expiresAt * 1000 <= Date.now()) {
      throw new DpError(403, ErrorCode.dp_grant_expired, 'Grant expired', 411, {
        grantId,
        expiresAt: doc.expiresAt,
      });
    }
    if (scope !== undefined && !scopeGranted(scope, doc.scopes)) {
      throw new DpError(403, ErrorCode.dp_scope_not_granted, 'Scope not granted', 412, {
        requestedScope: scope,
        grantedScopes: doc.scopes,
      });
    }
  }

  /** The scopes of every live grant the owner gave this builder. */
  private async liveScopesOf(server: ServerEntity, builder: Hex): Promise<string[]> {
    const grants = await this.registryCall((r) => r.permissionsOf(getAddress(server.ownerAddress)));
    const scopes: string[] = [];
    for (const g of grants) {
      try {
        this.checkLive(server, builder, g);
        scopes.push(...(g.document?.scopes ?? []));
      } catch (err) {
        if (!(err instanceof DpError)) throw err;
      }
    }
    return scopes;
  }

  private notReadable(scope: string, file: FileEntity | null): DpError {
    return new DpError(
      403,
      ErrorCode.dp_scope_not_readable,
      "The owner has not made this scope's raw data readable; run one of these operations on it instead",
      403,
      {
        scope,
        operations: this.operations,
        run: 'POST /v1/operations with an API key of this server and a Hearth grant (docs/api.md)',
        ...(file ? { fileIds: [file.id] } : {}),
      },
    );
  }

  private noData(scope: string): DpError {
    return new DpError(404, ErrorCode.dp_data_not_found, `No data for ${scope}`, 404, { scope });
  }

  /** The version's plaintext: its data key through the cache (one unwrap per file and TTL). */
  private async open(server: ServerEntity, file: FileEntity, inline: Buffer[] | null): Promise<Buffer> {
    const key = await this.fileKeys.get(file.id, file.wrappedDataKey!, () =>
      this.keys.unwrapDataKey(server.kmsKeyRef, file.wrappedDataKey!, fileKeyContext(server.id, file.id)),
    );
    const sealed: Buffer[] = inline ?? [];
    if (!inline) for await (const chunk of this.dp.readChunks(server.id, file.id)) sealed.push(chunk);
    const last = sealed.length - 1;
    return decryptChunks(
      key,
      fileChunkAad(server.id, file.id),
      sealed.map((c, index) => ({ index, isFinal: index === last, sealed: c })),
    );
  }

  /** One access-log row with its signed receipt (the receipt names the row). */
  private async log(
    server: ServerEntity,
    seal: ServerSeal,
    caller: DpCaller & { kind: 'builder' },
    scope: string,
    grant: RegistryGrant | null,
    what: { outcome: 'read'; file: FileEntity; body: Buffer } | { outcome: 'denied'; code: ErrorCode },
  ): Promise<{ receiptHash: string; logId: string }> {
    const blockNumber = grant?.blockNumber.toString(10) ?? null;
    const claimed = caller.grantId === undefined ? null : parseGrantId(caller.grantId);
    const grantId = (grant?.id ?? claimed)?.toString(10) ?? null;
    const file = what.outcome === 'read' ? what.file : null;
    const logId = newId('log');
    const signed = await this.receipts.sign(server, {
      operationId: logId,
      grantId: grantId ?? '0',
      blockNumber: blockNumber ?? '0',
      app: caller.address,
      operation: what.outcome === 'read' ? 'dp.read' : 'dp.read.denied',
      operationVersion: '1',
      codeHash: ZERO32,
      inputsHash: file
        ? inputsHash([{ fileId: file.id, ciphertextSha256: file.ciphertextSha256 ?? '' }])
        : ZERO32,
      // The scope's keyed digest, not its name: the receipt is stored, and a hash of a name could be guessed.
      parametersHash: parametersHash({ scopeDigest: this.scopeDigest(seal, scope) }),
      outputHash: what.outcome === 'read' ? sha256Bytes32(what.body) : ZERO32,
      engine: 'data-portability',
      model: '',
      privacyEpsilon: '0',
      // A raw read is decrypted by the gateway itself, in no sandbox, by no worker build: the receipt says so.
      // A raw read hands over the document itself: every character of it.
      quotedChars: what.outcome === 'read' ? String(what.body.length) : '0',
      sandboxLevel: 'none',
      workerCodeHash: ZERO32,
      issuedAt: new Date().toISOString(),
    });
    await this.dp.appendAccess(
      server.id,
      {
        operationId: null,
        actor: caller.address.toLowerCase(),
        apiKeyId: null,
        grantId,
        operation: 'dp.read',
        fileIds: file ? [file.id] : [],
        outcome: what.outcome,
        code: what.outcome === 'denied' ? what.code : null,
        blockNumber,
        receiptHash: signed.digest,
      },
      { id: logId, sealedScope: seal.seal('dp.scope', logId, scope), receipt: signed.receipt },
    );
    return { receiptHash: signed.digest, logId };
  }

  // ---- grants and the access log (owner) ----

  async grants(server: ServerEntity): Promise<{ grants: ReturnType<DataPortabilityService['grantView']>[] }> {
    const grants = await this.registryCall((r) => r.permissionsOf(getAddress(server.ownerAddress)));
    return { grants: grants.map((g) => this.grantView(g)) };
  }

  /** Whether a grant would let its grantee read now (the owner's check of a grant before sharing it). */
  async verifyGrant(server: ServerEntity, rawGrantId: unknown): Promise<Record<string, unknown>> {
    const grantId =
      typeof rawGrantId === 'string'
        ? parseGrantId(rawGrantId)
        : typeof rawGrantId === 'number'
          ? parseGrantId(String(rawGrantId))
          : null;
    if (grantId === null) {
      throw new DpError(
        400,
        ErrorCode.validation_failed,
        'grantId must be a permission id (decimal or 0x hex)',
        400,
        {
          field: 'grantId',
        },
      );
    }
    const grant = await this.registryCall((r) => r.grant(grantId));
    if (!grant) return { valid: false, grantId: grantId.toString(10), reason: ErrorCode.dp_grant_not_found };
    try {
      this.checkLive(server, grant.granteeAddress ?? ZERO_ADDRESS, grant);
      return { valid: true, ...this.grantView(grant) };
    } catch (err) {
      if (err instanceof DpError) return { valid: false, reason: err.code, ...this.grantView(grant) };
      throw err;
    }
  }

  private grantView(g: RegistryGrant) {
    return {
      grantId: g.id.toString(10),
      user: g.grantor,
      builder: g.granteeAddress,
      granteeId: g.granteeId.toString(10),
      scopes: g.document?.scopes ?? [],
      expiresAt: g.document?.expiresAt ?? 0,
      startBlock: g.startBlock.toString(10),
      endBlock: g.endBlock === 2n ** 256n - 1n ? null : g.endBlock.toString(10),
      revoked: g.endBlock <= g.blockNumber,
      fileIds: g.fileIds.map((f) => f.toString(10)),
    };
  }

  async accessLogs(server: ServerEntity, page: { limit: number; offset: number }) {
    const seal = await this.sealer.forServer(server);
    const { items, total } = await this.dp.accessLog(server.id, page);
    return {
      logs: items.map((row) => ({
        logId: row.id,
        grantId: row.grantId,
        builder: getAddress(row.actor),
        action: 'read',
        scope: row.sealedScope ? seal.open('dp.scope', row.id, row.sealedScope) : null,
        timestamp: row.createdAt.toISOString(),
        // Not kept: Hearth logs no client addresses or agents with tenant data.
        ipAddress: null,
        userAgent: null,
        outcome: row.outcome === 'read' ? 'allowed' : 'denied',
        errorCode: row.code,
        fileIds: row.fileIds,
        receiptHash: row.receiptHash,
        receipt: row.receipt,
      })),
      total,
      limit: page.limit,
      offset: page.offset,
    };
  }

  async health(server: ServerEntity): Promise<Record<string, unknown>> {
    let registries: 'reachable' | 'unreachable' | 'not configured' = 'not configured';
    let blockNumber: string | null = null;
    if (this.registry) {
      try {
        blockNumber = (await this.registry.blockNumber()).toString(10);
        registries = 'reachable';
      } catch {
        registries = 'unreachable';
      }
    }
    return {
      status: registries === 'unreachable' ? 'degraded' : 'healthy',
      version: '1.0',
      serverId: server.id,
      serverAddress: getAddress(server.address),
      owner: getAddress(server.ownerAddress),
      registries,
      blockNumber,
    };
  }

  // ---- the Hearth API's readable-scope settings ----

  async setReadable(
    server: ServerEntity,
    scope: string,
    readable: boolean,
  ): Promise<{ scope: string; readable: boolean; updatedAt: string }> {
    const seal = await this.sealer.forServer(server);
    const digest = this.scopeDigest(seal, scope);
    const row = await this.dp.setReadable(
      server.id,
      digest,
      seal.seal('dp.scope', `setting:${digest}`, scope),
      readable,
    );
    return { scope, readable: row.readable, updatedAt: row.updatedAt.toISOString() };
  }

  /** Every scope with data or a setting, with its readable flag (false unless the owner said otherwise). */
  async scopeSettings(
    server: ServerEntity,
  ): Promise<
    Array<{ scope: string; readable: boolean; versions: number; latestCollectedAt: string | null }>
  > {
    const seal = await this.sealer.forServer(server);
    const [scopes, settings] = await Promise.all([
      this.dp.scopes(server.id),
      this.dp.scopeSettings(server.id),
    ]);
    const byDigest = new Map<
      string,
      { scope: string; readable: boolean; versions: number; latestCollectedAt: string | null }
    >();
    for (const s of scopes) {
      byDigest.set(s.scopeDigest, {
        scope: seal.open('dp.scope', s.latest.fileId, s.latest.sealedScope),
        readable: false,
        versions: s.versions,
        latestCollectedAt: s.latest.collectedAt.toISOString(),
      });
    }
    for (const s of settings) {
      const entry = byDigest.get(s.scopeDigest) ?? {
        scope: seal.open('dp.scope', `setting:${s.scopeDigest}`, s.sealedScope),
        readable: false,
        versions: 0,
        latestCollectedAt: null,
      };
      entry.readable = s.readable;
      byDigest.set(s.scopeDigest, entry);
    }
    return [...byDigest.values()].sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
  }

  // ---- helpers ----

  /** The scope's keyed digest under the server's metadata key: finds its rows, reveals nothing of its name. */
  private scopeDigest(seal: ServerSeal, scope: string): string {
    return seal.digest(`dp.scope:${scope}`);
  }

  private async registryCall<T>(fn: (r: DataPortabilityRegistry) => Promise<T>): Promise<T> {
    if (!this.registry) {
      throw dpUnavailable(
        ErrorCode.dp_registry_unavailable,
        'The Data Portability registries are not configured',
      );
    }
    try {
      return await fn(this.registry);
    } catch (err) {
      if (err instanceof RegistryUnavailableError) {
        throw dpUnavailable(
          ErrorCode.dp_registry_unavailable,
          'The Data Portability registries are unreachable; retry later',
        );
      }
      throw err;
    }
  }
}
