import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { SessionRepository } from '@hearth/db';
import { ErrorCode, ProblemError } from '@hearth/errors';
import { getAddress } from 'viem';
import type { AuthedRequest } from './auth.types';
import { RateLimiter } from './rate-limiter';
import { bearerOf, looksLikeSessionToken, sha256 } from './tokens';

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="hearth"' };

/**
 * The SHA-256 of the session token an `Authorization` header carries; 401 when there is none or it is not a
 * session token. Whether the session is active is the database's answer (`invalidSession()` when it is not).
 */
export function sessionTokenHashOf(authorization: string | undefined): Buffer {
  const token = bearerOf(authorization);
  if (!token) {
    throw new ProblemError(
      401,
      ErrorCode.unauthorized,
      'Sign in first: Authorization: Bearer <session token>',
      undefined,
      CHALLENGE,
    );
  }
  if (!looksLikeSessionToken(token)) {
    throw new ProblemError(
      401,
      ErrorCode.invalid_session,
      'This route takes an owner session token',
      undefined,
      CHALLENGE,
    );
  }
  return sha256(token);
}

export function invalidSession(): ProblemError {
  return new ProblemError(
    401,
    ErrorCode.invalid_session,
    'The session is unknown, expired or signed out',
    undefined,
    CHALLENGE,
  );
}

/** Owner routes: `Authorization: Bearer <session token>` from POST /v1/auth/siwe. Sets @CurrentAccount(). */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly limiter: RateLimiter,
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const session = await this.sessions.findActive(sessionTokenHashOf(req.headers.authorization));
    if (!session) throw invalidSession();
    // Per account, whichever of its sessions: one account cannot flood the owner routes.
    await this.limiter.enforce(
      `account:${session.accountId}`,
      this.config.SESSION_RATE_PER_MINUTE,
      'per signed-in account',
    );
    req.hearthAccount = {
      accountId: session.accountId,
      address: getAddress(session.address),
      sessionId: session.sessionId,
    };
    return true;
  }
}
