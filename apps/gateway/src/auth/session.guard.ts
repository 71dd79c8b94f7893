import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { SessionRepository } from '@hearth/db';
import { ErrorCode, ProblemError } from '@hearth/errors';
import { getAddress } from 'viem';
import type { AuthedRequest } from './auth.types';
import { bearerOf, looksLikeSessionToken, sha256 } from './tokens';

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="hearth"' };

/** Owner routes: `Authorization: Bearer <session token>` from POST /v1/auth/siwe. Sets @CurrentAccount(). */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(private readonly sessions: SessionRepository) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const token = bearerOf(req.headers.authorization);
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
    const session = await this.sessions.findActive(sha256(token));
    if (!session) {
      throw new ProblemError(
        401,
        ErrorCode.invalid_session,
        'The session is unknown, expired or signed out',
        undefined,
        CHALLENGE,
      );
    }
    req.hearthAccount = {
      accountId: session.accountId,
      address: getAddress(session.address),
      sessionId: session.sessionId,
    };
    return true;
  }
}
