import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where `npm run build` writes the console (dist/console), from this file's place in dist. */
export const CONSOLE_DIR = join(__dirname, '..', '..', '..', '..', 'console');

/**
 * The console loads nothing but itself, the API (same origin) and the wallet (an extension, outside the page):
 * no inline script or style, no CDN, never framed.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "connect-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** Client-side routes of the console: answered with index.html so deep links and reloads work. */
export const CONSOLE_ROUTES = ['/', '/sign-in', '/servers', '/servers/*'] as const;

function securityHeaders(reply: FastifyReply): void {
  void reply.header('Content-Security-Policy', CONSOLE_CSP);
  void reply.header('X-Content-Type-Options', 'nosniff');
  void reply.header('Referrer-Policy', 'no-referrer');
  void reply.header('X-Frame-Options', 'DENY');
}

/**
 * Serves the built console: hashed assets under /assets/ (cached for a year, immutable: a new build has new
 * names), index.html for the console's own routes (never cached, so a deploy shows at once). Paths of the API
 * (/v1, /docs, /health, /metrics, /admin) are not console routes, so they are never shadowed; an unknown asset
 * is the API's ordinary 404. Without a build (dist/console absent) nothing is registered.
 */
export async function registerConsole(fastify: FastifyInstance, dir = CONSOLE_DIR): Promise<boolean> {
  const indexPath = join(dir, 'index.html');
  if (!existsSync(indexPath)) return false;
  const index = readFileSync(indexPath);
  await fastify.register(fastifyStatic, {
    root: join(dir, 'assets'),
    prefix: '/assets/',
    wildcard: false,
    index: false,
    decorateReply: false,
    cacheControl: false,
    etag: true,
    setHeaders: (reply) => {
      void reply.header('Cache-Control', 'public, max-age=31536000, immutable');
      securityHeaders(reply);
    },
  });
  for (const url of CONSOLE_ROUTES) {
    fastify.get(url, (_req, reply) => {
      securityHeaders(reply);
      return reply.header('Cache-Control', 'no-cache').type('text/html; charset=utf-8').send(index);
    });
  }
  return true;
}
