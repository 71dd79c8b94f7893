import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normalizeOrigin } from '../auth/api-key-policy';

/** Response headers a browser app may read. */
export const CORS_EXPOSED_HEADERS = [
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'Retry-After',
  'Location',
  'X-Request-Id',
  'Idempotent-Replayed',
  'Preference-Applied',
].join(', ');

// MCP's streamable HTTP transport adds its own request headers.
const APP_ALLOW_HEADERS =
  'authorization, content-type, idempotency-key, prefer, accept, mcp-protocol-version, mcp-session-id, last-event-id';
const OWNER_ALLOW_HEADERS = 'authorization, content-type, content-encoding';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

/**
 * Which CORS rule a path follows: access-request routes take no credential (any origin), app routes follow the
 * API key's origin allowlist (MCP included), every other /v1 route is the owner's (the console's origins only).
 */
export type CorsZone = 'access-request' | 'app' | 'owner' | 'none';

export function corsZoneOf(path: string): CorsZone {
  if (/^\/v1\/access-requests(\/|$)/.test(path)) return 'access-request';
  if (/^\/v1\/(whoami|grants|files|operations)(\/|$)/.test(path)) return 'app';
  if (/^\/mcp\/?$/.test(path) || /^\/v1\/servers\/[^/]+\/mcp\/?$/.test(path)) return 'app';
  if (/^\/v1(\/|$)/.test(path)) return 'owner';
  return 'none';
}

/** The actual (non-preflight) answer to an allowed origin: echoed, never with credentials. */
export function allowOrigin(reply: FastifyReply, origin: string): void {
  void reply.headers({
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': CORS_EXPOSED_HEADERS,
    Vary: 'Origin',
  });
}

/**
 * CORS without a library: a preflight carries no credential, so app routes answer it for any origin and the API
 * key decides on the actual request (ApiKeyGuard sets Access-Control-Allow-Origin only for an origin on the
 * key's allowlist). Access-Control-Allow-Credentials is never sent: every credential is a bearer header.
 */
export function registerCors(fastify: FastifyInstance, consoleOrigins: readonly string[]): void {
  const consoles = new Set(consoleOrigins.map((o) => normalizeOrigin(o)).filter((o) => o !== null));
  // A callback hook, not an async one: it runs on every request, and a promise per request shows in the floor.
  fastify.addHook('onRequest', (req, reply, done) => {
    if (!corsAnswered(req, reply, consoles)) done();
  });
}

/** Sets the CORS headers of a request; true when it answered a preflight itself (the request ends there). */
function corsAnswered(req: FastifyRequest, reply: FastifyReply, consoles: ReadonlySet<string>): boolean {
  const zone = corsZoneOf(req.url.split('?')[0]);
  if (zone === 'none') return false;
  // Whether an answer carries Access-Control-Allow-Origin depends on the Origin: caches must know.
  if (zone !== 'access-request') void reply.header('Vary', 'Origin');
  const origin = req.headers.origin;
  if (!origin) return false;
  const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  if (zone === 'access-request') {
    void reply.headers({
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Expose-Headers': CORS_EXPOSED_HEADERS,
    });
    return preflight && answerPreflight(reply, 'GET, POST, OPTIONS', 'content-type');
  }
  if (zone === 'app') {
    if (!preflight) return false;
    allowOrigin(reply, origin);
    return answerPreflight(reply, 'GET, POST, OPTIONS', APP_ALLOW_HEADERS);
  }
  const normalized = normalizeOrigin(origin);
  const allowed = normalized !== null && consoles.has(normalized);
  if (allowed) allowOrigin(reply, origin);
  // A refused origin's preflight gets no CORS headers: the browser then refuses the request itself.
  return (
    preflight &&
    answerPreflight(reply, allowed ? 'GET, POST, PUT, DELETE, OPTIONS' : null, OWNER_ALLOW_HEADERS)
  );
}

function answerPreflight(reply: FastifyReply, methods: string | null, headers: string): true {
  if (methods) {
    void reply.headers({
      'Access-Control-Allow-Methods': methods,
      'Access-Control-Allow-Headers': headers,
      'Access-Control-Max-Age': PREFLIGHT_MAX_AGE_SECONDS,
    });
  }
  void reply.code(204).send();
  return true;
}
