import { Module } from '@nestjs/common';
import { AccessLogModule } from '../access-log/access-log.module';
import { FilesModule } from '../files/files.module';
import { GrantsModule } from '../grants/grants.module';
import { ExportController } from './export.controller';
import { ExportService } from './export.service';

@Module({
  imports: [FilesModule, GrantsModule, AccessLogModule],
  controllers: [ExportController],
  providers: [ExportService],
})
export class ExportModule {}
