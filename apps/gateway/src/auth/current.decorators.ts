import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ErrorCode, ProblemError } from '@hearth/errors';
import type { AuthedRequest, AuthenticatedApiKey, SessionAccount } from './auth.types';

/** The owner SessionGuard authenticated: `{accountId, address, sessionId}`. */
export const CurrentAccount = createParamDecorator((_: unknown, ctx: ExecutionContext): SessionAccount => {
  const account = ctx.switchToHttp().getRequest<AuthedRequest>().hearthAccount;
  // A route using the decorator without the guard is a programming error; never serve it anonymously.
  if (!account) throw new ProblemError(401, ErrorCode.unauthorized, 'Sign in first');
  return account;
});

/** The API key ApiKeyGuard authenticated (serverId, appAddress, allowlists). */
export const CurrentApiKey = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AuthenticatedApiKey => {
    const key = ctx.switchToHttp().getRequest<AuthedRequest>().hearthApiKey;
    if (!key) throw new ProblemError(401, ErrorCode.unauthorized, 'An API key is required');
    return key;
  },
);
