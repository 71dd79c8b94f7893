import { Inject, Injectable } from '@nestjs/common';
import { resultAad, resultKeyContext, unpackChunks } from '@hearth/blobs';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { decryptChunks, sha256Bytes32 } from '@hearth/crypto';
import {
  FileRepository,
  OperationRepository,
  type Page,
  TERMINAL_STATUSES,
  toPage,
  type OperationEntity,
} from '@hearth/db';
import { ErrorCode, type FieldError, ProblemError } from '@hearth/errors';
import { isId } from '@hearth/ids';
import {
  inferenceOptionsFromConfig,
  listCatalog,
  validateOperationRequest,
  type InferenceOptions,
  type ValidationResult,
} from '@hearth/inference';
import type { KeyManager } from '@hearth/kms';
import { type DenyCode, serverPolicy } from '@hearth/permissions';
import { OperationQueue } from '@hearth/queue';
import { canonicalJson } from '@hearth/receipts';
import { getAddress } from 'viem';
import { assertOperationAllowed } from '../auth/api-key-policy';
import type { AuthenticatedApiKey } from '../auth/auth.types';
import { Chain } from '../chain/chain.module';
import { KEY_MANAGER } from '../keys/keys.module';
import { outageProblem } from '../common/library-errors';
import { Metrics } from '../metrics/metrics';
import type { CreateOperationBody, ListOperationsQuery, OperationView } from './operations.dto';

const DENY_FIELDS: Record<DenyCode, string> = {
  grant_not_found: 'grantId',
  grant_revoked: 'grantId',
  grant_expired: 'grantId',
  wrong_grantee: 'grantId',
  wrong_server: 'grantId',
  operation_not_granted: 'operation',
  file_not_granted: 'fileIds',
  not_authorized: 'fileIds',
  chain_unavailable: 'grantId',
};

type ValidOperation = Extract<ValidationResult, { ok: true }>;

@Injectable()
export class OperationsService {
  private readonly inference: InferenceOptions;
  private readonly queuePrefix: string;

  constructor(
    @Inject(HEARTH_CONFIG) config: HearthConfig,
    private readonly files: FileRepository,
    private readonly operations: OperationRepository,
    private readonly chain: Chain,
    @Inject(KEY_MANAGER) private readonly keys: KeyManager,
    private readonly queue: OperationQueue,
    private readonly metrics: Metrics,
  ) {
    this.inference = inferenceOptionsFromConfig(config);
    this.queuePrefix = config.QUEUE_PREFIX;
  }

  catalog() {
    return { items: listCatalog(this.inference) };
  }

  /**
   * Validates everything that can be known before running (catalog, parameters, key allowlist, files), asks
   * the chain whether the grant allows it now, records the operation and enqueues a job that carries ids only.
   */
  async create(
    key: AuthenticatedApiKey,
    body: CreateOperationBody,
    idempotencyKey: string | null,
  ): Promise<{ view: OperationView; replayed: boolean }> {
    const requestHash = sha256Bytes32(canonicalJson(body));
    if (idempotencyKey) {
      const existing = await this.operations.findIdempotent(key.serverId, key.id, idempotencyKey);
      if (existing) return this.replay(existing, requestHash);
    }
    const validated = await this.validate(key, body);
    await this.authorize(key, body);
    const { operation, created } = await this.record(key, body, validated, idempotencyKey, requestHash);
    if (!created) return this.replay(operation, requestHash);
    await this.enqueue(operation);
    this.metrics.operationsEnqueued.inc({ operation: body.operation });
    return { view: this.view(operation), replayed: false };
  }

  /** The key may call it, the catalog has it with these parameters, the server may run it, the files exist. */
  private async validate(key: AuthenticatedApiKey, body: CreateOperationBody): Promise<ValidOperation> {
    assertOperationAllowed(key, body.operation);
    const validated = validateOperationRequest(this.inference, body.operation, body.parameters);
    if (!validated.ok) {
      const unknown = validated.errors.some((e) => e.code === 'unknown_operation');
      throw new ProblemError(
        unknown ? 404 : 400,
        unknown ? ErrorCode.unknown_operation : ErrorCode.invalid_parameters,
        unknown
          ? `No operation named "${body.operation}" in the catalog (GET /v1/operations/catalog)`
          : 'Invalid operation parameters',
        validated.errors.map((e) => ({
          ...e,
          field:
            e.field === 'operation' || e.field.startsWith('parameters') ? e.field : `parameters.${e.field}`,
        })),
      );
    }
    // Read with the API key, in the same query.
    const { server } = key;
    // A collective runs aggregate operations only (the worker enforces it again at execution time).
    if (server.kind === 'collective' && !validated.operation.aggregate) {
      throw new ProblemError(
        403,
        ErrorCode.operation_not_allowed,
        `${body.operation} is not an aggregate operation; collectives run aggregate operations only`,
        [
          {
            field: 'operation',
            code: 'not_aggregate',
            message: 'must be an operation with aggregate: true in the catalog',
          },
        ],
      );
    }
    await this.checkFiles(server.id, body.fileIds);
    return validated;
  }

  /** The server's policy allows this app, operation and files, as the chain has it now. */
  private async authorize(key: AuthenticatedApiKey, body: CreateOperationBody): Promise<void> {
    const { server } = key;
    const policy = serverPolicy(server);
    if (policy.kind === 'grants' && !body.grantId) {
      throw ProblemError.validation([
        { field: 'grantId', code: 'required', message: 'this server is governed by grants: name the grant' },
      ]);
    }
    const decision = await this.chain.checker.check({
      serverId: server.id,
      ownerAddress: getAddress(server.ownerAddress),
      policy,
      grantId: body.grantId,
      grantee: key.appAddress,
      operation: body.operation,
      fileIds: body.fileIds,
    });
    if (decision.allowed) return;
    if (decision.code === 'chain_unavailable') {
      throw new ProblemError(
        503,
        ErrorCode.chain_unavailable,
        'The permission contract cannot be reached; try again',
        undefined,
        { 'Retry-After': '5' },
      );
    }
    throw new ProblemError(
      403,
      ErrorCode.permission_denied,
      `The grant does not allow this: ${decision.code}`,
      [
        {
          field: DENY_FIELDS[decision.code],
          code: decision.code,
          message: `denied by the permission contract (${decision.code})`,
        },
      ],
    );
  }

  /** The operations row, or the one an earlier request with the same Idempotency-Key recorded. */
  private record(
    key: AuthenticatedApiKey,
    body: CreateOperationBody,
    validated: ValidOperation,
    idempotencyKey: string | null,
    requestHash: string,
  ): Promise<{ operation: OperationEntity; created: boolean }> {
    return this.operations.createIdempotent(key.server.id, {
      apiKeyId: key.id,
      appAddress: key.appAddress.toLowerCase(),
      operation: body.operation,
      operationVersion: validated.operation.version,
      parameters: validated.params,
      fileIds: body.fileIds,
      grantId: body.grantId ?? null,
      idempotencyKey,
      requestHash,
      queuePrefix: this.queuePrefix,
    });
  }

  /** The job that runs it; without one, the row goes too (never a half-written operation). */
  private async enqueue(operation: OperationEntity): Promise<void> {
    try {
      await this.queue.enqueue(operation.serverId, operation.id);
    } catch {
      // Not accepted: the row goes. Should that fail too (a crash, Postgres gone as well), the row stays queued
      // without a job and the reconciler queues it after RECONCILE_GRACE_MS (docs/design.md, durable enqueue).
      await this.operations.deleteUnqueued(operation.serverId, operation.id).catch(() => undefined);
      throw outageProblem(ErrorCode.queue_unavailable, 'The queue is unavailable; try again');
    }
  }

  private replay(existing: OperationEntity, requestHash: string): { view: OperationView; replayed: boolean } {
    if (existing.requestHash !== requestHash) {
      throw new ProblemError(
        422,
        ErrorCode.idempotency_conflict,
        'This Idempotency-Key was used with a different request body',
        [{ field: 'Idempotency-Key', code: 'reused', message: 'already used for another request' }],
      );
    }
    return { view: this.view(existing), replayed: true };
  }

  private async checkFiles(serverId: string, fileIds: string[]): Promise<void> {
    const unique = [...new Set(fileIds)];
    if (unique.length !== fileIds.length) {
      throw ProblemError.validation([
        { field: 'fileIds', code: 'duplicate', message: 'each file may be named once' },
      ]);
    }
    const found = new Set(await this.files.readyIds(serverId, unique));
    const errors: FieldError[] = fileIds
      .map((id, i) => ({ id, i }))
      .filter(({ id }) => !found.has(id))
      .map(({ i }) => ({ field: `fileIds.${i}`, code: 'not_found', message: 'no such file on this server' }));
    if (errors.length)
      throw new ProblemError(404, ErrorCode.not_found, 'Some files do not exist on this server', errors);
  }

  async get(key: AuthenticatedApiKey, id: string): Promise<OperationView> {
    const op = await this.find(key, id);
    const view = this.view(op);
    if (op.status === 'succeeded') {
      view.resultExpiresAt = op.resultExpiresAt?.toISOString() ?? null;
      if (
        op.resultCiphertext &&
        op.resultWrappedKey &&
        (!op.resultExpiresAt || op.resultExpiresAt > new Date())
      ) {
        view.result = await this.openResult(key, op);
      }
    }
    return view;
  }

  /** The key's operations, newest first; results are left out (each `GET /v1/operations/:id` opens its own). */
  async list(key: AuthenticatedApiKey, query: ListOperationsQuery): Promise<Page<OperationView>> {
    const rows = await this.operations.listForApiKey(key.serverId, key.id, {
      ...query,
      limit: query.limit + 1,
    });
    return toPage(rows, query.limit, (op) => this.view(op));
  }

  async find(key: AuthenticatedApiKey, id: string): Promise<OperationEntity> {
    // Only the key that created an operation sees it (rotation keeps the key id).
    const op = isId('op', id) ? await this.operations.findForApiKey(key.serverId, key.id, id) : null;
    if (!op) throw ProblemError.notFound('operation');
    return op;
  }

  async cancel(key: AuthenticatedApiKey, id: string): Promise<OperationView> {
    const op = await this.find(key, id);
    if (!(await this.operations.cancelQueued(op.serverId, op.id))) {
      throw new ProblemError(
        409,
        ErrorCode.operation_not_cancellable,
        `The operation is ${op.status}; only queued operations can be cancelled`,
      );
    }
    // A job taken off the queue never runs and gives its place in the tenant's backlog back; one that a worker
    // already holds finds the operation cancelled and gives it back itself.
    await this.queue.cancel(op.serverId, op.id);
    // Event streams and Prefer: wait requests of the operation end now.
    await this.queue.publish(op.id, 'cancelled').catch(() => undefined);
    return this.view((await this.operations.findById(op.serverId, op.id))!);
  }

  isTerminal(status: string): boolean {
    return (TERMINAL_STATUSES as readonly string[]).includes(status);
  }

  /** Results are sealed under the tenant key (purpose "result"); the gateway opens only results, never files. */
  private async openResult(apiKey: AuthenticatedApiKey, op: OperationEntity): Promise<unknown> {
    // find() returned the operation for this key only, so the key's server is the operation's.
    const key = await this.keys.unwrapDataKey(
      apiKey.server.kmsKeyRef,
      op.resultWrappedKey!,
      resultKeyContext(op.serverId, op.id),
    );
    try {
      const sealed = unpackChunks(op.resultCiphertext!);
      const last = sealed.length - 1;
      const plain = decryptChunks(
        key,
        resultAad(op.serverId, op.id),
        sealed.map((s, index) => ({ index, isFinal: index === last, sealed: s })),
      );
      return JSON.parse(plain.toString('utf8')) as unknown;
    } finally {
      key.fill(0);
    }
  }

  view(op: OperationEntity): OperationView {
    return {
      id: op.id,
      serverId: op.serverId,
      status: op.status,
      operation: op.operation,
      operationVersion: op.operationVersion,
      fileIds: op.fileIds,
      grantId: op.grantId,
      createdAt: op.createdAt.toISOString(),
      startedAt: op.startedAt?.toISOString() ?? null,
      finishedAt: op.finishedAt?.toISOString() ?? null,
      ...(op.receipt ? { receipt: op.receipt } : {}),
      ...(op.errorCode ? { error: { code: op.errorCode, detail: op.errorDetail } } : {}),
      ...(op.timings ? { timings: op.timings } : {}),
    };
  }
}
