import { Module } from '@nestjs/common';
import { AccessRequestRepository, DatabaseModule, FileRepository, ServerRepository } from '@hearth/db';
import { GrantsModule } from '../grants/grants.module';
import { AccessRequestsController, ServerAccessRequestsController } from './access-requests.controller';
import { AccessRequestsService } from './access-requests.service';
import { ReturnUrlNotifier } from './return-url';

@Module({
  imports: [
    GrantsModule,
    DatabaseModule.forFeature([AccessRequestRepository, ServerRepository, FileRepository]),
  ],
  controllers: [AccessRequestsController, ServerAccessRequestsController],
  providers: [AccessRequestsService, ReturnUrlNotifier],
  exports: [AccessRequestsService],
})
export class AccessRequestsModule {}
