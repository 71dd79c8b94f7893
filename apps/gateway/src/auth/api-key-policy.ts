import { ErrorCode, ProblemError } from '@hearth/errors';
import type { AuthenticatedApiKey } from './auth.types';

/**
 * An origin as keys store it: `scheme://host[:port]`, lowercase, default port dropped. A leading `*.` in the
 * host allows every subdomain (not the bare domain). Returns null for anything else (paths, credentials, …).
 */
export function normalizeOrigin(value: string): string | null {
  const wildcard = /^(https?):\/\/\*\./i.exec(value);
  let url: URL;
  try {
    url = new URL(wildcard ? value.replace('*.', 'wildcard-placeholder.') : value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== ''))
    return null;
  if (value.endsWith('/')) return null;
  const host = url.host.toLowerCase();
  return `${url.protocol}//${wildcard ? host.replace('wildcard-placeholder.', '*.') : host}`;
}

export function originAllowed(allowlist: string[], origin: string | undefined): boolean {
  if (!origin) return false;
  const normalized = normalizeOrigin(origin);
  if (!normalized || normalized.includes('*')) return false;
  return allowlist.some((allowed) => {
    if (allowed === normalized) return true;
    const star = allowed.indexOf('://*.');
    if (star < 0) return false;
    const scheme = allowed.slice(0, star + 3);
    const suffix = allowed.slice(star + 4); // ".example.com"
    return (
      normalized.startsWith(scheme) &&
      normalized.endsWith(suffix) &&
      normalized.length > scheme.length + suffix.length
    );
  });
}

/** Throws 403 origin_not_allowed when the key has an origin allowlist the request's Origin is not on. */
export function assertOriginAllowed(key: AuthenticatedApiKey, origin: string | undefined): void {
  if (!key.origins?.length) return;
  if (!originAllowed(key.origins, origin)) {
    throw new ProblemError(
      403,
      ErrorCode.origin_not_allowed,
      origin
        ? `Origin ${origin} is not on this API key's allowlist`
        : 'This API key only accepts requests with an allowed Origin',
      [{ field: 'Origin', code: 'not_allowed', message: 'not on the API key origin allowlist' }],
    );
  }
}

/**
 * For the operations endpoint: throws 403 operation_not_allowed (naming the operation) when the key has an
 * operation allowlist without it. Call it after validating the body, before enqueueing.
 */
export function assertOperationAllowed(key: AuthenticatedApiKey, operation: string): void {
  if (key.operations === null || key.operations.includes(operation)) return;
  throw new ProblemError(
    403,
    ErrorCode.operation_not_allowed,
    `This API key may not run the operation "${operation}"`,
    [
      {
        field: 'operation',
        code: 'not_allowed',
        message: `"${operation}" is not on the API key operation allowlist`,
      },
    ],
  );
}
