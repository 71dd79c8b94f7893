import { Module } from '@nestjs/common';
import { CollectivesController, MembersController, WhitelistController } from './collectives.controller';
import { CollectivesService } from './collectives.service';

@Module({
  controllers: [CollectivesController, MembersController, WhitelistController],
  providers: [CollectivesService],
})
export class CollectivesModule {}
