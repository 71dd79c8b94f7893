/** True when `err` is Postgres' unique_violation (23505), optionally on one named constraint or index. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as {
    code?: string;
    constraint?: string;
    driverError?: { code?: string; constraint?: string };
  };
  if (!e || typeof e !== 'object') return false;
  const code = e.code ?? e.driverError?.code;
  const name = e.constraint ?? e.driverError?.constraint;
  return code === '23505' && (constraint === undefined || name === constraint);
}

// Connection-level failures: the server is down, restarting, refusing or unreachable (not a bad statement).
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000', // connection_exception
  '08001',
  '08003',
  '08004',
  '08006',
  '53300', // too_many_connections
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|connection error and is not queryable|Connection is not established|the database system is (starting up|shutting down)/i;

/**
 * True when `err` means Postgres cannot be reached right now (refused, reset, shut down, pool connect timeout),
 * not that a statement was wrong: callers answer 503 or retry. Looks through TypeORM's `driverError`.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 3; depth++) {
    const x = e as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
    // Socket codes only on real errors (pg's own); a bare object with such a code is somebody else's.
    if (typeof x.code === 'string' && UNAVAILABLE_CODES.has(x.code)) {
      if (/^[0-9A-Z]{5}$/.test(x.code) || (e instanceof Error && !('statusCode' in e))) return true;
    }
    if (typeof x.message === 'string' && UNAVAILABLE_MESSAGES.test(x.message)) return true;
    // AggregateError (a host with several addresses, each refused)
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner))) return true;
    e = x.driverError ?? x.cause;
  }
  return false;
}
