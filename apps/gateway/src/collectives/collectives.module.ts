import { Module } from '@nestjs/common';
import { CollectiveDataRepository, DatabaseModule, MemberRepository, ServerRepository } from '@hearth/db';
import {
  CollectivesController,
  DatasetsController,
  MembersController,
  PrivacyController,
  WhitelistController,
} from './collectives.controller';
import { CollectivesService } from './collectives.service';

@Module({
  imports: [DatabaseModule.forFeature([ServerRepository, MemberRepository, CollectiveDataRepository])],
  controllers: [
    CollectivesController,
    MembersController,
    WhitelistController,
    DatasetsController,
    PrivacyController,
  ],
  providers: [CollectivesService],
})
export class CollectivesModule {}
