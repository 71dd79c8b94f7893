import { Module } from '@nestjs/common';
import { DatabaseModule, FileRepository } from '@hearth/db';
import { OperationsModule } from '../operations/operations.module';
import { McpController } from './mcp.controller';
import { McpService } from './mcp.service';

@Module({
  imports: [OperationsModule, DatabaseModule.forFeature([FileRepository])],
  controllers: [McpController],
  providers: [McpService],
})
export class McpModule {}
