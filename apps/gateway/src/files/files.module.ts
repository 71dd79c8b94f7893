import { Module } from '@nestjs/common';
import { AccessLogRepository, DatabaseModule, FileRepository, MemberRepository } from '@hearth/db';
import { FileContentController, FilesController } from './files.controller';
import { DownloadLog } from './download-log';
import { FilesService } from './files.service';

@Module({
  imports: [DatabaseModule.forFeature([FileRepository, MemberRepository, AccessLogRepository])],
  controllers: [FilesController, FileContentController],
  providers: [FilesService, DownloadLog],
  exports: [FilesService],
})
export class FilesModule {}
