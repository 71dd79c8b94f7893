import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './generated/openapi';
import { HearthProblemError, retryAfterSeconds } from './errors';

export interface RetryOptions {
  /** Retries after the first attempt for 429 and 503 (default 3). */
  retries?: number;
  /** Upper bound of one wait, whatever `Retry-After` asks (default 10 000 ms). */
  maxDelayMs?: number;
  /** First backoff when the server gives no `Retry-After` (default 250 ms, doubling). */
  baseDelayMs?: number;
}

export interface ClientOptions {
  /** The gateway's origin, e.g. `https://hearth.example` (without `/v1`). */
  baseUrl: string;
  /** Another fetch (tests, instrumentation); the global one by default. */
  fetch?: typeof fetch;
  retry?: RetryOptions;
}

const RETRIED = new Set([429, 503]);

function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}

/**
 * HTTP to one gateway: bearer auth, bounded retries of 429/503 honouring `Retry-After`, problem documents
 * turned into `HearthProblemError`. The typed routes go through openapi-fetch on the generated `paths`.
 */
export class Transport {
  readonly baseUrl: string;
  readonly api: Client<paths>;
  private readonly fetchImpl: typeof fetch;
  private readonly retry: Required<RetryOptions>;

  constructor(
    options: ClientOptions,
    private readonly credential: () => string | undefined,
  ) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.retry = {
      retries: options.retry?.retries ?? 3,
      maxDelayMs: options.retry?.maxDelayMs ?? 10_000,
      baseDelayMs: options.retry?.baseDelayMs ?? 250,
    };
    this.api = createClient<paths>({
      baseUrl: this.baseUrl,
      fetch: (request: Request) => this.send(request),
    });
  }

  /** Sends a Request (openapi-fetch's) with auth and retries; a retry replays a clone of it. */
  async send(request: Request, opts: { retry?: boolean } = {}): Promise<Response> {
    const token = this.credential();
    if (token && !request.headers.has('authorization'))
      request.headers.set('authorization', `Bearer ${token}`);
    const retries = opts.retry === false ? 0 : this.retry.retries;
    return this.withRetries(retries, request.signal, (last) =>
      this.fetchImpl(last ? request : request.clone()),
    );
  }

  /**
   * A request outside the typed routes (JSON posts, uploads, event streams); throws the problem when not ok.
   * Sent as given (a string body stays a string with its length, as a hand-written fetch sends it), so
   * retries just send it again; a streamed body is never retried.
   */
  async request(
    method: string,
    path: string,
    init: RequestInit & { duplex?: 'half' } = {},
    opts: { retry?: boolean } = {},
  ): Promise<Response> {
    const headers = new Headers(init.headers);
    const token = this.credential();
    if (token && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
    const replayable =
      init.body === undefined ||
      init.body === null ||
      typeof init.body === 'string' ||
      init.body instanceof Blob;
    const retries = opts.retry === false || !replayable ? 0 : this.retry.retries;
    const url = `${this.baseUrl}${path}`;
    const res = await this.withRetries(retries, init.signal, () =>
      this.fetchImpl(url, { ...init, method, headers }),
    );
    if (!res.ok) throw await HearthProblemError.fromResponse(res);
    return res;
  }

  private async withRetries(
    retries: number,
    signal: AbortSignal | null | undefined,
    attempt: (last: boolean) => Promise<Response>,
  ): Promise<Response> {
    for (let n = 0; ; n++) {
      const res = await attempt(n >= retries);
      if (!RETRIED.has(res.status) || n >= retries) return res;
      const asked = retryAfterSeconds(res.headers.get('retry-after'));
      const delay = Math.min(
        this.retry.maxDelayMs,
        asked !== undefined ? asked * 1000 : this.retry.baseDelayMs * 2 ** n,
      );
      await res.body?.cancel().catch(() => undefined);
      await sleep(delay, signal);
    }
  }
}

/** openapi-fetch's `{data, error, response}` → the data, or the problem thrown. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<NonNullable<T>> {
  const { data, error, response } = await call;
  if (!response.ok || error !== undefined)
    throw HearthProblemError.fromBody(response.status, error, response.headers);
  return data as NonNullable<T>;
}

/** Walks `{items, nextCursor}` pages as one async iterator. */
export async function* paginate<T>(
  page: (cursor: string | undefined) => Promise<{ items?: T[]; nextCursor?: string | null }>,
): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const { items = [], nextCursor } = await page(cursor);
    for (const item of items) yield item;
    cursor = nextCursor ?? undefined;
  } while (cursor);
}
