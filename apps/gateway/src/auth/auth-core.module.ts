import { Global, Module } from '@nestjs/common';
import { AccountRepository, ApiKeyRepository, ServerRepository, SessionRepository } from '@hearth/db';
import { ApiKeyGuard } from './api-key.guard';
import { RateLimiter } from './rate-limiter';
import { ServerAccessService } from './server-access.service';
import { SessionGuard } from './session.guard';

/** Guards, the tenant check and the repositories they use, available to every feature module. */
@Global()
@Module({
  providers: [
    AccountRepository,
    SessionRepository,
    ServerRepository,
    ApiKeyRepository,
    RateLimiter,
    SessionGuard,
    ApiKeyGuard,
    ServerAccessService,
  ],
  exports: [
    AccountRepository,
    SessionRepository,
    ServerRepository,
    ApiKeyRepository,
    RateLimiter,
    SessionGuard,
    ApiKeyGuard,
    ServerAccessService,
  ],
})
export class AuthCoreModule {}
