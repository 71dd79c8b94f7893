import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { ErrorCode, ProblemError } from '@hearth/errors';
import type { FastifyReply } from 'fastify';
import type { ApiKeyMatch } from '@hearth/db';
import { ApiKeyCache } from './api-key-cache';
import { allowOrigin } from '../http/cors';
import { assertOriginAllowed, originAllowed } from './api-key-policy';
import { checksummed } from './checksummed';
import type { AuthedRequest } from './auth.types';
import { RateLimiter } from './rate-limiter';
import { bearerOf, looksLikeApiKey, sha256 } from './tokens';

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="hearth-api"' };

/**
 * App routes: `Authorization: Bearer hth_live_…`. Unknown or revoked keys get 401; the key's rate limit
 * (Redis, shared by every replica) answers 429 past it, with RateLimit-* headers on every response; the
 * Origin allowlist answers 403; an Origin on the allowlist gets Access-Control-Allow-Origin (CORS: a key without
 * an allowlist is a server-side key, which no browser may read). Sets @CurrentApiKey().
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeyCache,
    private readonly limiter: RateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<AuthedRequest>();
    const reply = http.getResponse<FastifyReply>();
    const secret = bearerOf(req.headers.authorization);
    if (!secret) {
      throw new ProblemError(
        401,
        ErrorCode.unauthorized,
        'An API key is required: Authorization: Bearer hth_live_…',
        undefined,
        CHALLENGE,
      );
    }
    if (!looksLikeApiKey(secret)) throw this.invalid();
    const match = await this.keys.find(sha256(secret));
    if (!match) throw this.invalid();
    await this.admit(req, reply, match);
    return true;
  }

  /**
   * Everything after the credential named the key: revoked or expired (401), its Origin allowlist (CORS and
   * 403), its rate limit (429, RateLimit-* headers), then @CurrentApiKey(). Shared by credentials other than the
   * secret (an MCP request Web3Signed by the app's wallet).
   */
  async admit(req: AuthedRequest, reply: FastifyReply, match: ApiKeyMatch): Promise<void> {
    const { key, server } = match;
    if (key.revokedAt !== null) {
      throw new ProblemError(
        401,
        ErrorCode.api_key_revoked,
        'This API key was revoked',
        undefined,
        CHALLENGE,
      );
    }
    if (key.expiresAt !== null && key.expiresAt.getTime() <= Date.now()) {
      throw new ProblemError(
        401,
        ErrorCode.api_key_revoked,
        'This API key has expired',
        undefined,
        CHALLENGE,
      );
    }

    // Before the rate check, so a browser app can read its own 429 too.
    const origin = req.headers.origin;
    if (origin && key.origins?.length && originAllowed(key.origins, origin)) allowOrigin(reply, origin);

    const rate = await this.limiter.hit(key.id, key.ratePerMinute);
    void reply.headers({
      'RateLimit-Limit': String(rate.limit),
      'RateLimit-Remaining': String(rate.remaining),
      'RateLimit-Reset': String(rate.resetSeconds),
    });
    if (!rate.allowed) {
      throw new ProblemError(
        429,
        ErrorCode.rate_limited,
        `This API key allows ${rate.limit} requests per minute`,
        undefined,
        { 'Retry-After': String(rate.resetSeconds) },
      );
    }

    req.hearthApiKey = {
      id: key.id,
      serverId: key.serverId,
      name: key.name,
      appAddress: checksummed(key.appAddress),
      operations: key.operations,
      origins: key.origins,
      ratePerMinute: key.ratePerMinute,
      server,
    };
    assertOriginAllowed(req.hearthApiKey, req.headers.origin);
  }

  private invalid(): ProblemError {
    return new ProblemError(401, ErrorCode.invalid_api_key, 'The API key is not valid', undefined, CHALLENGE);
  }
}
