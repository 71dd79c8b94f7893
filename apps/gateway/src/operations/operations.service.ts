import { Inject, Injectable, Logger } from '@nestjs/common';
import { resultAad, resultKeyContext, unpackChunks } from '@hearth/blobs';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { decryptChunks } from '@hearth/crypto';
import {
  AccessLogRepository,
  CollectiveDataRepository,
  FileRepository,
  OperationRepository,
  type Page,
  TERMINAL_STATUSES,
  toPage,
  type OperationEntity,
} from '@hearth/db';
import { ErrorCode, type FieldError, ProblemError } from '@hearth/errors';
import { isId, newId } from '@hearth/ids';
import {
  inferenceOptionsFromConfig,
  listCatalog,
  validateOperationRequest,
  type InferenceOptions,
  type ValidationResult,
} from '@hearth/inference';
import type { KeyManager } from '@hearth/kms';
import { type DenyCode, serverPolicy } from '@hearth/permissions';
import { type OperationEndState, type OperationEvent, OperationQueue } from '@hearth/queue';
import { canonicalJson } from '@hearth/receipts';
import { getAddress } from 'viem';
import { AppGrants } from '../app-discovery/app-grants.service';
import { assertOperationAllowed } from '../auth/api-key-policy';
import type { AuthenticatedApiKey } from '../auth/auth.types';
import { Chain } from '../chain/chain.module';
import { KEY_MANAGER } from '../keys/keys.module';
import { outageProblem } from '../common/library-errors';
import { MetadataSealer, type ServerSeal } from '../keys/metadata-sealer';
import { Metrics } from '../metrics/metrics';
import { tooDeepAt } from '../http/json-body';
import {
  type CreateOperationBody,
  type ListOperationsQuery,
  MAX_PARAMETERS_BYTES,
  MAX_PARAMETERS_DEPTH,
  type OperationView,
} from './operations.dto';

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

/** A listener on one operation's end: `ended` resolves with its first terminal event; `stop` unsubscribes. */
export interface EndWatch {
  ended: Promise<OperationEvent>;
  stop: () => void;
}

/**
 * Bounds on `parameters` before anything walks them recursively (the request hash, the schema): a structure
 * nested thousands deep would overflow the stack, a huge one costs every step after.
 */
function checkParametersShape(parameters: Record<string, unknown>): void {
  const problem = (code: string, message: string) =>
    new ProblemError(400, ErrorCode.invalid_parameters, 'Invalid operation parameters', [
      { field: 'parameters', code, message },
    ]);
  if (tooDeepAt(parameters, MAX_PARAMETERS_DEPTH) !== null)
    throw problem('too_deep', `nested deeper than ${MAX_PARAMETERS_DEPTH} levels`);
  if (Buffer.byteLength(JSON.stringify(parameters)) > MAX_PARAMETERS_BYTES)
    throw problem('too_large', `at most ${MAX_PARAMETERS_BYTES} bytes as JSON`);
}

@Injectable()
export class OperationsService {
  private readonly logger = new Logger(OperationsService.name);
  private readonly inference: InferenceOptions;
  private readonly queuePrefix: string;

  constructor(
    @Inject(HEARTH_CONFIG) config: HearthConfig,
    private readonly files: FileRepository,
    private readonly operations: OperationRepository,
    private readonly accessLog: AccessLogRepository,
    private readonly collectives: CollectiveDataRepository,
    private readonly chain: Chain,
    @Inject(KEY_MANAGER) private readonly keys: KeyManager,
    private readonly queue: OperationQueue,
    private readonly metrics: Metrics,
    private readonly sealer: MetadataSealer,
    private readonly appGrants: AppGrants,
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
    opts: { watchEnd?: boolean } = {},
  ): Promise<{ view: OperationView; replayed: boolean; watch?: EndWatch }> {
    checkParametersShape(body.parameters);
    const seal = await this.sealer.forServer(key.server);
    // Keyed: a plain hash of the body would let a database reader confirm a guessed question.
    const requestHash = seal.digest(canonicalJson(body));
    if (idempotencyKey) {
      const existing = await this.operations.findIdempotent(key.serverId, key.id, idempotencyKey);
      if (existing) return this.replay(existing, requestHash);
    }
    const validated = await this.validate(key, body);
    await this.authorize(key, body);
    const { operation, created } = await this.record(key, seal, body, validated, idempotencyKey, requestHash);
    if (!created) return this.replay(operation, requestHash);
    // Listening before the job exists: its end cannot come before the listener, so nothing is read back first.
    const watch = opts.watchEnd ? await this.watchEnd(operation.id) : undefined;
    try {
      await this.enqueue(operation);
    } catch (err) {
      watch?.stop();
      throw err;
    }
    this.metrics.operationsEnqueued.inc({ operation: body.operation });
    const view = this.view(operation);
    if (watch) view.parameters = validated.params;
    return { view, replayed: false, watch };
  }

  /** The end of an operation (its first terminal event), listened to from now on. */
  private async watchEnd(id: string): Promise<EndWatch> {
    let resolve!: (event: OperationEvent) => void;
    const ended = new Promise<OperationEvent>((r) => (resolve = r));
    const stop = await this.queue.subscribe(id, (event) => {
      if (this.isTerminal(event.status)) resolve(event);
    });
    return { ended, stop };
  }

  /**
   * A new operation's view once it ended (`watch` listened since before its job existed), or as created when
   * `timeoutMs` passed or `signal` aborted. The worker's end event carries the ended state, the result still
   * sealed: it is opened here without reading the row back. An end without it (a collective's, a large
   * result, a cancellation, a give-up) is read from the row.
   */
  async awaitEnd(
    key: AuthenticatedApiKey,
    created: OperationView,
    watch: EndWatch,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<OperationView> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      const event = await Promise.race([
        watch.ended,
        new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs))),
        new Promise<null>((resolve) => {
          onAbort = () => resolve(null);
          signal?.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
      if (signal?.aborted) return created;
      if (!event?.outcome) return await this.get(key, created.id);
      return await this.endedView(key, created, event.status, event.outcome);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      watch.stop();
    }
  }

  private async endedView(
    key: AuthenticatedApiKey,
    created: OperationView,
    status: OperationView['status'],
    ended: OperationEndState,
  ): Promise<OperationView> {
    const view: OperationView = {
      ...created,
      status,
      fileIds: ended.fileIds,
      startedAt: ended.startedAt,
      finishedAt: ended.finishedAt,
      ...(ended.receipt ? { receipt: ended.receipt } : {}),
      ...(ended.errorCode ? { error: { code: ended.errorCode, detail: ended.errorDetail } } : {}),
      ...(ended.timings ? { timings: ended.timings } : {}),
    };
    if (status !== 'succeeded') return view;
    view.resultExpiresAt = ended.resultExpiresAt;
    const expired = ended.resultExpiresAt !== null && new Date(ended.resultExpiresAt) <= new Date();
    if (!expired && ended.sealedResult) {
      view.result = await this.openResult(key, {
        serverId: created.serverId,
        id: created.id,
        ciphertext: Buffer.from(ended.sealedResult.ciphertext, 'base64'),
        wrappedKey: Buffer.from(ended.sealedResult.wrappedKey, 'base64'),
      });
    } else if (!expired) {
      return this.get(key, created.id);
    }
    return view;
  }

  /**
   * The key may call it, the catalog has it with these parameters, the server may run it, the files exist and
   * together fit the operation's input limit (checked on their recorded sizes: nothing is read).
   */
  private async validate(key: AuthenticatedApiKey, body: CreateOperationBody): Promise<ValidOperation> {
    try {
      assertOperationAllowed(key, body.operation);
    } catch (err) {
      throw await this.logged(key, body, ErrorCode.operation_not_allowed, err);
    }
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
      const refused = new ProblemError(
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
      throw await this.logged(key, body, ErrorCode.operation_not_allowed, refused);
    }
    if (server.kind === 'collective') {
      await this.checkCollectiveScope(server.id, body);
      return validated;
    }
    const sizes = await this.checkFiles(server.id, body);
    const { maxInputBytes } = validated.operation.limits;
    const total = sizes.reduce((sum, f) => sum + f.size, 0);
    if (total > maxInputBytes) {
      throw new ProblemError(
        422,
        ErrorCode.input_too_large,
        `The files add up to ${total} bytes; ${body.operation} takes at most ${maxInputBytes}`,
        [
          {
            field: 'fileIds',
            code: 'input_too_large',
            message: `at most ${maxInputBytes} bytes in all (limits.maxInputBytes in the catalog)`,
          },
        ],
      );
    }
    return validated;
  }

  /**
   * A refused request that names this server's data leaves an access-log row: the app, the reason, the ids of
   * its files that are this server's, and nothing else (no parameters). Returns the refusal to throw. A row
   * that cannot be written is an operator's problem, never a reason to let the request through.
   */
  private async logged(
    key: AuthenticatedApiKey,
    body: CreateOperationBody,
    code: string,
    refusal: unknown,
  ): Promise<unknown> {
    try {
      const named = body.fileIds ?? [];
      const known = new Set(await this.files.readyIds(key.serverId, [...new Set(named)]));
      const fileIds = named.filter((id) => known.has(id));
      // A request on a collective names its whole contribution set (or a dataset of it), never files.
      if (fileIds.length === 0 && key.server.kind !== 'collective') return refusal;
      await this.accessLog.append(key.serverId, {
        operationId: null,
        actor: key.appAddress.toLowerCase(),
        apiKeyId: key.id,
        grantId: body.grantId ?? null,
        // A catalog-like name, or none: the log keeps no free text of the request.
        operation: /^[a-z0-9_]{1,64}$/.test(body.operation) ? body.operation : null,
        fileIds,
        outcome: 'denied',
        code,
        blockNumber: null,
        receiptHash: null,
      });
    } catch (err) {
      this.logger.error(
        { err: err instanceof Error ? { name: err.name, message: err.message } : String(err) },
        'a refusal could not be written to the access log',
      );
    }
    return refusal;
  }

  /**
   * A collective's aggregate runs over its whole current contribution set or a dataset an admin published:
   * never files the app picks ({all} and {all but one}, subtracted, would tell one member's data).
   */
  private async checkCollectiveScope(serverId: string, body: CreateOperationBody): Promise<void> {
    if (body.fileIds !== undefined && body.fileIds.length > 0) {
      throw new ProblemError(
        400,
        ErrorCode.file_selection_not_allowed,
        "A collective's aggregates run over all its current contributions, or a published dataset (datasetId); an app does not pick files",
        [
          {
            field: 'fileIds',
            code: 'file_selection_not_allowed',
            message: 'leave fileIds out; name a datasetId or nothing (every current contribution)',
          },
        ],
      );
    }
    if (body.datasetId && !(await this.collectives.findDataset(serverId, body.datasetId))) {
      throw new ProblemError(404, ErrorCode.not_found, 'No such dataset on this collective', [
        { field: 'datasetId', code: 'not_found', message: 'no such dataset on this collective' },
      ]);
    }
  }

  /** The server's policy allows this app, operation and files, as the chain has it now. */
  private async authorize(key: AuthenticatedApiKey, body: CreateOperationBody): Promise<void> {
    const { server } = key;
    const policy = serverPolicy(server);
    // A collective's scope is its dataset, or (no ids) every current contribution, which a grant covers only
    // with allFiles; the worker asks the same again at execution time.
    const collective = server.kind === 'collective';
    if (policy.kind === 'grants' && !body.grantId) {
      // The app's one covering grant, named from here on (the operation row and the worker use it).
      try {
        body.grantId = await this.appGrants.pick(key, {
          operation: body.operation,
          scopeIds: collective ? (body.datasetId ? [body.datasetId] : []) : (body.fileIds ?? []),
          requireAllFiles: collective && !body.datasetId,
        });
      } catch (err) {
        if (err instanceof ProblemError && err.status === 403) {
          throw await this.logged(key, body, 'no_covering_grant', err);
        }
        throw err;
      }
    }
    const decision = await this.chain.checker.check({
      serverId: server.id,
      ownerAddress: getAddress(server.ownerAddress),
      policy,
      grantId: body.grantId,
      grantee: key.appAddress,
      operation: body.operation,
      fileIds: collective ? (body.datasetId ? [body.datasetId] : []) : (body.fileIds ?? []),
      requireAllFiles: collective && !body.datasetId,
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
    const refused = new ProblemError(
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
    throw await this.logged(key, body, decision.code, refused);
  }

  /** The operations row, or the one an earlier request with the same Idempotency-Key recorded. */
  private record(
    key: AuthenticatedApiKey,
    seal: ServerSeal,
    body: CreateOperationBody,
    validated: ValidOperation,
    idempotencyKey: string | null,
    requestHash: string,
  ): Promise<{ operation: OperationEntity; created: boolean }> {
    const id = newId('op');
    return this.operations.createIdempotent(key.server.id, {
      id,
      apiKeyId: key.id,
      appAddress: key.appAddress.toLowerCase(),
      operation: body.operation,
      operationVersion: validated.operation.version,
      sealedParameters: seal.seal('operation.parameters', id, JSON.stringify(validated.params)),
      fileIds: body.fileIds ?? [],
      grantId: body.grantId ?? null,
      datasetId: body.datasetId ?? null,
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

  /** Each file named is a ready file of this server, named once; their sizes. */
  private async checkFiles(
    serverId: string,
    body: CreateOperationBody,
  ): Promise<Array<{ id: string; size: number }>> {
    if (body.datasetId !== undefined) {
      throw ProblemError.validation([
        {
          field: 'datasetId',
          code: 'not_a_collective',
          message: 'datasets belong to collectives; name fileIds',
        },
      ]);
    }
    const fileIds = body.fileIds ?? [];
    if (fileIds.length === 0) {
      throw ProblemError.validation([
        { field: 'fileIds', code: 'required', message: 'name at least one file of this server' },
      ]);
    }
    const unique = [...new Set(fileIds)];
    if (unique.length !== fileIds.length) {
      throw ProblemError.validation([
        { field: 'fileIds', code: 'duplicate', message: 'each file may be named once' },
      ]);
    }
    const sizes = await this.files.readySizes(serverId, unique);
    const found = new Set(sizes.map((f) => f.id));
    const errors: FieldError[] = fileIds
      .map((id, i) => ({ id, i }))
      .filter(({ id }) => !found.has(id))
      .map(({ i }) => ({ field: `fileIds.${i}`, code: 'not_found', message: 'no such file on this server' }));
    if (errors.length)
      throw new ProblemError(404, ErrorCode.not_found, 'Some files do not exist on this server', errors);
    return sizes;
  }

  async get(key: AuthenticatedApiKey, id: string): Promise<OperationView> {
    const op = await this.find(key, id);
    const view = this.view(op);
    const seal = await this.sealer.forServer(key.server);
    view.parameters = JSON.parse(seal.open('operation.parameters', op.id, op.sealedParameters)) as Record<
      string,
      unknown
    >;
    if (op.status === 'succeeded') {
      view.resultExpiresAt = op.resultExpiresAt?.toISOString() ?? null;
      if (
        op.resultCiphertext &&
        op.resultWrappedKey &&
        (!op.resultExpiresAt || op.resultExpiresAt > new Date())
      ) {
        view.result = await this.openResult(key, {
          serverId: op.serverId,
          id: op.id,
          ciphertext: op.resultCiphertext,
          wrappedKey: op.resultWrappedKey,
        });
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

  /**
   * The operation once it ended, or as it is when `timeoutMs` passed or `signal` aborted (the caller left).
   * Subscribes first, then reads: an end between the two cannot be missed.
   */
  async waitForEnd(
    key: AuthenticatedApiKey,
    id: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<OperationView> {
    let ended!: () => void;
    const end = new Promise<void>((resolve) => (ended = resolve));
    const unsubscribe = await this.queue.subscribe(id, (event) => {
      if (this.isTerminal(event.status)) ended();
    });
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      const current = await this.get(key, id);
      if (this.isTerminal(current.status) || signal?.aborted) return current;
      await Promise.race([
        end,
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
        new Promise<void>((resolve) => {
          onAbort = () => resolve();
          signal?.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
      // Nobody to answer: do not open (decrypt) a result for a caller that left.
      if (signal?.aborted) return current;
      return await this.get(key, id);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      unsubscribe();
    }
  }

  isTerminal(status: string): boolean {
    return (TERMINAL_STATUSES as readonly string[]).includes(status);
  }

  /** Results are sealed under the tenant key (purpose "result"); the gateway opens only results, never files. */
  private async openResult(
    apiKey: AuthenticatedApiKey,
    op: { serverId: string; id: string; ciphertext: Buffer; wrappedKey: Buffer },
  ): Promise<unknown> {
    // The operation is this key's (found for it, or created with it), so the key's server is the operation's.
    const key = await this.keys.unwrapDataKey(
      apiKey.server.kmsKeyRef,
      op.wrappedKey,
      resultKeyContext(op.serverId, op.id),
    );
    try {
      const sealed = unpackChunks(op.ciphertext);
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
      ...(op.datasetId ? { datasetId: op.datasetId } : {}),
      createdAt: op.createdAt.toISOString(),
      startedAt: op.startedAt?.toISOString() ?? null,
      finishedAt: op.finishedAt?.toISOString() ?? null,
      ...(op.receipt ? { receipt: op.receipt } : {}),
      ...(op.errorCode ? { error: { code: op.errorCode, detail: op.errorDetail } } : {}),
      ...(op.timings ? { timings: op.timings } : {}),
    };
  }
}
