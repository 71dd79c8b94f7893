import { Module } from '@nestjs/common';
import { CollectiveDataRepository, DatabaseModule, FileRepository, ServerRepository } from '@hearth/db';
import { GrantsController, PolicyController } from './grants.controller';
import { GrantsService } from './grants.service';

@Module({
  imports: [DatabaseModule.forFeature([FileRepository, ServerRepository, CollectiveDataRepository])],
  controllers: [GrantsController, PolicyController],
  providers: [GrantsService],
  exports: [GrantsService],
})
export class GrantsModule {}
