/** One field-level error of a problem document (`errors[]`). */
export interface ProblemFieldError {
  field: string;
  code: string;
  message?: string;
}

/** The problem document every Hearth error answers with (`application/problem+json`). */
export interface ProblemDocument {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code: string;
  errors?: ProblemFieldError[];
  instance?: string;
  requestId?: string;
}

/**
 * A request Hearth refused or could not serve. `code` is stable (the gateway's `ErrorCode`, listed at
 * `/docs`), `errors[]` names the fields, `status` is the HTTP status.
 */
export class HearthProblemError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly errors: ProblemFieldError[];
  readonly title?: string;
  readonly requestId?: string;
  /** Seconds the server asked to wait (429/503), when it said so. */
  readonly retryAfterSeconds?: number;

  constructor(problem: ProblemDocument, retryAfterSeconds?: number) {
    super(`${problem.status} ${problem.code}${problem.detail ? `: ${problem.detail}` : ''}`);
    this.name = 'HearthProblemError';
    this.status = problem.status;
    this.code = problem.code;
    this.detail = problem.detail ?? problem.title ?? '';
    this.errors = problem.errors ?? [];
    this.title = problem.title;
    this.requestId = problem.requestId;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** From a response that is not ok: its problem document, or a synthetic one when the body is not one. */
  static async fromResponse(res: Response, body?: unknown): Promise<HearthProblemError> {
    let parsed = body;
    if (parsed === undefined) {
      const text = await res.text().catch(() => '');
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = { detail: text.slice(0, 500) };
      }
    }
    return HearthProblemError.fromBody(res.status, parsed, res.headers);
  }

  static fromBody(status: number, body: unknown, headers?: Headers): HearthProblemError {
    const b = (body && typeof body === 'object' ? body : {}) as Partial<ProblemDocument>;
    const retry = headers ? retryAfterSeconds(headers.get('retry-after')) : undefined;
    return new HearthProblemError(
      {
        ...b,
        status: typeof b.status === 'number' ? b.status : status,
        code: typeof b.code === 'string' ? b.code : `http_${status}`,
        requestId: b.requestId ?? headers?.get('x-request-id') ?? undefined,
      },
      retry,
    );
  }
}

export function isHearthProblem(err: unknown, code?: string): err is HearthProblemError {
  return err instanceof HearthProblemError && (code === undefined || err.code === code);
}

/** `Retry-After` as seconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterSeconds(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

/** A check of a receipt that failed; `reason` says which. */
export class ReceiptVerificationError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ReceiptVerificationError';
  }
}
