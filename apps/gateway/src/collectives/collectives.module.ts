import { Module } from '@nestjs/common';
import { DatabaseModule, MemberRepository, ServerRepository } from '@hearth/db';
import { CollectivesController, MembersController, WhitelistController } from './collectives.controller';
import { CollectivesService } from './collectives.service';

@Module({
  imports: [DatabaseModule.forFeature([ServerRepository, MemberRepository])],
  controllers: [CollectivesController, MembersController, WhitelistController],
  providers: [CollectivesService],
})
export class CollectivesModule {}
