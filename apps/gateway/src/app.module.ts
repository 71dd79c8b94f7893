import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { HearthConfig } from '@hearth/config';
import { AccessRequestsModule } from './access-requests/access-requests.module';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AppDiscoveryModule } from './app-discovery/app-discovery.module';
import { AccessLogModule } from './access-log/access-log.module';
import { AuthCoreModule } from './auth/auth-core.module';
import { ChainModule } from './chain/chain.module';
import { CollectivesModule } from './collectives/collectives.module';
import { EventsModule } from './events/events.module';
import { DataPortabilityModule } from './data-portability/data-portability.module';
import { ExportModule } from './export/export.module';
import { FilesModule } from './files/files.module';
import { GrantsModule } from './grants/grants.module';
import { OperationsModule } from './operations/operations.module';
import { AuthModule } from './auth/auth.module';
import { ContentTypeGuard } from './common/content-type.guard';
import { ProblemFilter } from './common/problem.filter';
import { RouteTable } from './http/route-table';
import { HealthModule } from './health/health.module';
import { InfraModule } from './infra/infra.module';
import { QuotasModule } from './quotas/quotas.module';
import { KeysModule } from './keys/keys.module';
import { McpModule } from './mcp/mcp.module';
import { MetricsModule } from './metrics/metrics.module';
import { ServersModule } from './servers/servers.module';

@Module({})
export class AppModule {
  static forRoot(config: HearthConfig, routes = new RouteTable()): DynamicModule {
    return {
      module: AppModule,
      imports: [
        InfraModule.forRoot(config),
        MetricsModule,
        HealthModule,
        KeysModule,
        QuotasModule,
        AuthCoreModule,
        ChainModule,
        EventsModule,
        OperationsModule,
        FilesModule,
        AccessLogModule,
        ServersModule,
        AuthModule,
        ApiKeysModule,
        GrantsModule,
        CollectivesModule,
        AccessRequestsModule,
        AppDiscoveryModule,
        McpModule,
        DataPortabilityModule,
        ExportModule,
      ],
      providers: [
        { provide: RouteTable, useValue: routes },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_GUARD, useClass: ContentTypeGuard },
      ],
    };
  }
}
