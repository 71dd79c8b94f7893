import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { HearthConfig } from '@hearth/config';
import { createLogger } from '@hearth/logging';
import { LoggerModule } from 'nestjs-pino';
import type { IncomingMessage } from 'node:http';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AccessLogModule } from './access-log/access-log.module';
import { AuthCoreModule } from './auth/auth-core.module';
import { ChainModule } from './chain/chain.module';
// Issue 9: collectives (POST /v1/servers, members, whitelist).
import { CollectivesModule } from './collectives/collectives.module';
import { FilesModule } from './files/files.module';
import { GrantsModule } from './grants/grants.module';
import { OperationsModule } from './operations/operations.module';
import { AuthModule } from './auth/auth.module';
import { ContentTypeGuard } from './common/content-type.guard';
import { ProblemFilter } from './common/problem.filter';
import { requestIdFrom } from './common/request-id';
import { RouteTable } from './http/route-table';
import { HealthModule } from './health/health.module';
import { InfraModule } from './infra/infra.module';
import { KeysModule } from './keys/keys.module';
import { MetricsModule } from './metrics/metrics.module';
import { ServersModule } from './servers/servers.module';

@Module({})
export class AppModule {
  static forRoot(config: HearthConfig, routes = new RouteTable()): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            logger: createLogger({ level: config.LOG_LEVEL, name: 'gateway' }),
            genReqId: (req) => (req as IncomingMessage & { id?: string }).id ?? requestIdFrom(req),
            customProps: (req: IncomingMessage) => ({ reqId: (req as IncomingMessage & { id?: string }).id }),
            // Method and path only: query strings and headers may carry names or tokens.
            serializers: {
              req: (req: { method?: string; url?: string }) => ({
                method: req.method,
                path: req.url?.split('?')[0],
              }),
              res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
            },
            autoLogging: { ignore: (req) => req.url === '/health/live' || req.url === '/metrics' },
          },
        }),
        InfraModule.forRoot(config),
        MetricsModule,
        HealthModule,
        KeysModule,
        AuthCoreModule,
        ChainModule,
        OperationsModule,
        FilesModule,
        AccessLogModule,
        ServersModule,
        AuthModule,
        ApiKeysModule,
        GrantsModule,
        CollectivesModule,
      ],
      providers: [
        { provide: RouteTable, useValue: routes },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_GUARD, useClass: ContentTypeGuard },
      ],
    };
  }
}
