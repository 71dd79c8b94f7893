import { HearthProblemError } from './errors';
import { verifyReceiptWith, type VerifiedReceipt } from './receipts';
import { type ClientOptions, paginate, Transport, unwrap } from './transport';
import { type Operation, type OperationStatus, type Page, TERMINAL_STATUSES } from './types';
import { jsonInit, query } from './owner';
import { type HearthSigner, resolveSigner } from './signer';

export interface HearthAppOptions extends ClientOptions {
  /** `hth_live_…`, as the owner created it for this app. */
  apiKey: string;
}

export interface RunOptions {
  fileIds: string[];
  parameters?: Record<string, unknown>;
  grantId?: string;
  /** Cancels: the request is dropped and the operation cancelled on the server if it has not started. */
  signal?: AbortSignal;
  /** Each status the operation passes through (queued, running, then the final one). */
  onProgress?: (event: { id: string; status: OperationStatus }) => void;
  /** Seconds of `Prefer: wait` (default 30, at most 60); past it the event stream takes over. */
  waitSeconds?: number;
  /** Default: a fresh one per call, reused by the retries of that call. */
  idempotencyKey?: string;
}

export interface WhoAmI {
  keyId: string;
  serverId: string;
  appAddress: `0x${string}`;
  /** The key's server's address: the signer every receipt must recover to. */
  serverAddress?: `0x${string}`;
  /** The server identity key's uncompressed secp256k1 public key (0x-hex). */
  serverPublicKey?: `0x${string}`;
}

/** A grant as its app sees it (`GET /v1/grants`). */
export interface AppGrant {
  grantId: string;
  operations: string[];
  fileIds: string[];
  datasetIds?: string[];
  allFiles: boolean;
  expiresAt: string | null;
  status: 'active' | 'revoked' | 'expired';
}

/** A file the app may name (`GET /v1/files`): never its name. */
export interface AppFile {
  id: string;
  size: number;
  contentType: string;
  createdAt: string;
}

export interface RequestAccessOptions extends ClientOptions {
  /** The app's wallet: it signs the request and, later, the key claim. */
  signer: HearthSigner;
  /** A server id (srv_…) or the owner's wallet address. */
  server: string;
  operations: string[];
  fileIds?: string[];
  allFiles?: boolean;
  purpose: string;
  /** ISO 8601: the grant's requested expiry. */
  expiresAt?: string;
  returnUrl?: string;
  appName?: string;
  /** The key's origin allowlist (a browser app's own origin). */
  origins?: string[];
}

export interface AccessRequestStatus {
  requestId: string;
  status: 'pending' | 'approved' | 'denied' | 'expired';
  serverId: string;
  serverAddress: `0x${string}`;
  grantId: string | null;
  keyId: string | null;
  keyClaimed: boolean;
  expiresAt: string;
  [field: string]: unknown;
}

export interface ClaimedKey {
  keyId: string;
  /** `hth_live_…`: delivered once. */
  key: string;
  grantId: string;
  serverId: string;
  serverAddress: `0x${string}`;
}

export interface CatalogEntry {
  name: string;
  version: string;
  engine?: string;
  aggregate?: boolean;
  parameters?: unknown;
  [extra: string]: unknown;
}

function randomKey(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const bytes = c.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason as unknown;
  return reason instanceof Error ? reason : new DOMException('The operation was aborted', 'AbortError');
}

/**
 * An app calling with its API key:
 *
 * ```ts
 * const app = new HearthApp({ apiKey, baseUrl });
 * const op = await app.run('summarize', { fileIds, grantId, parameters: { sentences: 2 } });
 * await app.verifyReceipt(op);
 * ```
 */
export class HearthApp {
  readonly http: Transport;
  private me?: Promise<WhoAmI>;

  constructor(options: HearthAppOptions) {
    this.http = new Transport(options, () => options.apiKey);
  }

  /**
   * Files an access request signed by the app's wallet; the owner approves or denies it. Poll it with
   * `HearthApp.accessRequest`, then `HearthApp.claimKey` once approved.
   */
  static async requestAccess(
    options: RequestAccessOptions,
  ): Promise<{ requestId: string; status: 'pending'; expiresAt: string }> {
    const { signer, server, operations, fileIds, allFiles, purpose, expiresAt, returnUrl, appName, origins } =
      options;
    const http = new Transport(options, () => undefined);
    const wallet = await resolveSigner(signer);
    const prepared = (await (
      await http.request(
        'POST',
        '/v1/access-requests/typed-data',
        jsonInit({
          server,
          appAddress: wallet.address,
          operations,
          ...(allFiles ? { allFiles: true } : { fileIds }),
          purpose,
          ...(expiresAt ? { expiresAt } : {}),
          ...(returnUrl ? { returnUrl } : {}),
          ...(appName ? { appName } : {}),
          ...(origins ? { origins } : {}),
        }),
      )
    ).json()) as { typedData: Record<string, unknown> };
    const signature = await wallet.signTypedData(prepared.typedData);
    const res = await http.request(
      'POST',
      '/v1/access-requests',
      jsonInit({ typedData: prepared.typedData, signature }),
      { retry: false },
    );
    return (await res.json()) as { requestId: string; status: 'pending'; expiresAt: string };
  }

  /** An access request's status (the id is the capability; no key needed). */
  static async accessRequest(options: ClientOptions & { requestId: string }): Promise<AccessRequestStatus> {
    const http = new Transport(options, () => undefined);
    const res = await http.request('GET', `/v1/access-requests/${encodeURIComponent(options.requestId)}`);
    return (await res.json()) as AccessRequestStatus;
  }

  /** The approved request's API key, signed for by the wallet that filed the request; delivered once. */
  static async claimKey(
    options: ClientOptions & { requestId: string; signer: HearthSigner },
  ): Promise<ClaimedKey> {
    const http = new Transport(options, () => undefined);
    const path = `/v1/access-requests/${encodeURIComponent(options.requestId)}/key`;
    const prepared = (await (await http.request('POST', `${path}/typed-data`, jsonInit({}))).json()) as {
      typedData: Record<string, unknown>;
    };
    const signature = await (await resolveSigner(options.signer)).signTypedData(prepared.typedData);
    // Not retried: a claim that succeeded but whose answer was lost cannot be repeated (409 already_claimed).
    const res = await http.request('POST', path, jsonInit({ typedData: prepared.typedData, signature }), {
      retry: false,
    });
    return (await res.json()) as ClaimedKey;
  }

  /** The grants on this key's server that name this app, as the chain has them now. */
  grants(): AsyncGenerator<AppGrant> {
    return paginate(
      async (cursor) =>
        (await (
          await this.http.request('GET', `/v1/grants${query({ limit: 200, cursor })}`)
        ).json()) as Page<AppGrant>,
    );
  }

  /** The files this app may name (those in its active grants), newest first; never their names. */
  files(): AsyncGenerator<AppFile> {
    return paginate(
      async (cursor) =>
        (await (
          await this.http.request('GET', `/v1/files${query({ limit: 200, cursor })}`)
        ).json()) as Page<AppFile>,
    );
  }

  /** Which key, server and app this is (cached). */
  whoami(): Promise<WhoAmI> {
    this.me ??= unwrap(this.http.api.GET('/v1/whoami')).then((w) => w as unknown as WhoAmI);
    this.me.catch(() => (this.me = undefined));
    return this.me;
  }

  async catalog(): Promise<CatalogEntry[]> {
    const res = await this.http.request('GET', '/v1/operations/catalog');
    const body = (await res.json()) as CatalogEntry[] | { items: CatalogEntry[] };
    return Array.isArray(body) ? body : body.items;
  }

  /** Queues an operation (`POST /v1/operations`), with an Idempotency-Key so a retried POST is the same operation. */
  async submit(
    operation: string,
    options: Omit<RunOptions, 'onProgress'> & { wait?: number },
  ): Promise<Operation> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'idempotency-key': options.idempotencyKey ?? randomKey(),
    };
    if (options.wait) headers.prefer = `wait=${Math.min(60, Math.max(1, Math.round(options.wait)))}`;
    const body = {
      operation,
      fileIds: options.fileIds,
      parameters: options.parameters ?? {},
      ...(options.grantId !== undefined ? { grantId: options.grantId } : {}),
    };
    const res = await this.http.request('POST', '/v1/operations', {
      headers,
      body: JSON.stringify(body),
      signal: options.signal,
    });
    return (await res.json()) as Operation;
  }

  async get(operationId: string, signal?: AbortSignal): Promise<Operation> {
    const res = await this.http.request('GET', `/v1/operations/${encodeURIComponent(operationId)}`, {
      signal,
    });
    return (await res.json()) as Operation;
  }

  async listPage(
    options: { limit?: number; cursor?: string; status?: OperationStatus } = {},
  ): Promise<Page<Operation>> {
    return (await (
      await this.http.request('GET', `/v1/operations${query(options)}`)
    ).json()) as Page<Operation>;
  }

  operations(status?: OperationStatus): AsyncGenerator<Operation> {
    return paginate((cursor) => this.listPage({ limit: 200, cursor, status }));
  }

  /** Cancels a queued operation; `409 operation_not_cancellable` once it runs. */
  async cancel(operationId: string): Promise<Operation> {
    const res = await this.http.request(
      'POST',
      `/v1/operations/${encodeURIComponent(operationId)}/cancel`,
      jsonInit({}),
    );
    return (await res.json()) as Operation;
  }

  /** The operation's status events (server-sent events) until it ends. */
  async *events(
    operationId: string,
    signal?: AbortSignal,
  ): AsyncGenerator<{ id: string; status: OperationStatus }> {
    const res = await this.http.request('GET', `/v1/operations/${encodeURIComponent(operationId)}/events`, {
      headers: { accept: 'text/event-stream' },
      signal,
    });
    if (!res.body) return;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += value;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = frame
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          if (!data) continue; // heartbeat comments
          const event = JSON.parse(data) as { id: string; status: OperationStatus };
          yield event;
          if (TERMINAL_STATUSES.has(event.status)) return;
        }
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }

  /**
   * Runs an operation and returns it finished (result and receipt included): `Prefer: wait` first, the event
   * stream if it takes longer. Aborting `signal` cancels it on the server (when it has not started yet) and
   * rejects with the abort reason.
   */
  async run(operation: string, options: RunOptions): Promise<Operation> {
    const { signal, onProgress } = options;
    if (signal?.aborted) throw abortError(signal);
    const idempotencyKey = options.idempotencyKey ?? randomKey();
    let id: string | undefined;
    const onAbort = () => {
      if (id) void this.cancel(id).catch(() => undefined);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let op = await this.submit(operation, { ...options, idempotencyKey, wait: options.waitSeconds ?? 30 });
      id = op.id;
      if (signal?.aborted) onAbort();
      onProgress?.({ id: op.id, status: op.status });
      if (TERMINAL_STATUSES.has(op.status)) return op;
      // Longer than the wait: follow the events (reconnecting if a stream ends early), then read it whole.
      for (let attempt = 0; attempt < 100 && !TERMINAL_STATUSES.has(op.status); attempt++) {
        for await (const event of this.events(op.id, signal)) {
          onProgress?.(event);
          if (TERMINAL_STATUSES.has(event.status)) break;
        }
        op = await this.get(op.id, signal);
      }
      if (!TERMINAL_STATUSES.has(op.status)) throw new Error(`operation ${op.id} did not end`);
      return op;
    } catch (err) {
      if (signal?.aborted) throw abortError(signal);
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Verifies a finished operation's receipt: the signature must recover to this key's server's address as the
   * server reports it (`whoami`, never the receipt's own `signer`), the receipt must be this operation's and
   * this app's, the output hash must match the result, and the parameters hash (when present) the parameters.
   */
  async verifyReceipt(
    op: Operation,
    options: { parameters?: Record<string, unknown> } = {},
  ): Promise<VerifiedReceipt> {
    const me = await this.whoami();
    if (!me.serverAddress) {
      throw new HearthProblemError({
        status: 0,
        code: 'server_address_unknown',
        detail: 'whoami gave no serverAddress',
      });
    }
    return verifyReceiptWith(op, {
      serverAddress: me.serverAddress,
      appAddress: me.appAddress,
      parameters: options.parameters,
    });
  }
}
