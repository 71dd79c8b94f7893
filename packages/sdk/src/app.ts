import { HearthProblemError } from './errors';
import { verifyReceiptWith, type VerifiedReceipt } from './receipts';
import { type ClientOptions, paginate, Transport, unwrap } from './transport';
import { type Operation, type OperationStatus, type Page, TERMINAL_STATUSES } from './types';
import { jsonInit, query } from './owner';

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
