import { Module } from '@nestjs/common';
import { DatabaseModule, FileRepository, ServerRepository } from '@hearth/db';
import { GrantsController, PolicyController } from './grants.controller';
import { GrantsService } from './grants.service';

@Module({
  imports: [DatabaseModule.forFeature([FileRepository, ServerRepository])],
  controllers: [GrantsController, PolicyController],
  providers: [GrantsService],
})
export class GrantsModule {}
