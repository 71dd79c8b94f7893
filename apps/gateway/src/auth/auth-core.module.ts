import { Global, Module } from '@nestjs/common';
import {
  AccountRepository,
  ApiKeyRepository,
  AuthChangeFeed,
  DatabaseModule,
  ServerRepository,
  SessionRepository,
} from '@hearth/db';
import { ApiKeyCache } from './api-key-cache';
import { ApiKeyGuard } from './api-key.guard';
import { RateLimiter } from './rate-limiter';
import { ServerAccessService } from './server-access.service';
import { SessionGuard } from './session.guard';

const repositories = DatabaseModule.forFeature([
  AccountRepository,
  SessionRepository,
  ServerRepository,
  ApiKeyRepository,
]);

/** Guards, the tenant check and the repositories they use, available to every feature module. */
@Global()
@Module({
  imports: [repositories],
  providers: [AuthChangeFeed, ApiKeyCache, RateLimiter, SessionGuard, ApiKeyGuard, ServerAccessService],
  exports: [repositories, ApiKeyCache, RateLimiter, SessionGuard, ApiKeyGuard, ServerAccessService],
})
export class AuthCoreModule {}
