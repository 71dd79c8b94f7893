import { Module } from '@nestjs/common';
import { DatabaseModule, FileRepository } from '@hearth/db';
import { DataPortabilityModule } from '../data-portability/data-portability.module';
import { OperationsModule } from '../operations/operations.module';
import { McpController } from './mcp.controller';
import { McpAuthGuard } from './mcp-auth.guard';
import { McpService } from './mcp.service';

@Module({
  imports: [OperationsModule, DataPortabilityModule, DatabaseModule.forFeature([FileRepository])],
  controllers: [McpController],
  providers: [McpService, McpAuthGuard],
})
export class McpModule {}
