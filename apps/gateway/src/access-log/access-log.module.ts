import { Module } from '@nestjs/common';
import { AccessLogRepository, DatabaseModule, UsageRepository } from '@hearth/db';
import { AccessLogController } from './access-log.controller';
import { AccessLogService } from './access-log.service';

@Module({
  imports: [DatabaseModule.forFeature([AccessLogRepository, UsageRepository])],
  controllers: [AccessLogController],
  providers: [AccessLogService],
  exports: [AccessLogService],
})
export class AccessLogModule {}
