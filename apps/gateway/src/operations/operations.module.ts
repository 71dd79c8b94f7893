import { Module } from '@nestjs/common';
import { OperationRepository } from '@hearth/db';
import { OperationEventsHub } from './operation-events.hub';
import { OperationsController } from './operations.controller';
import { OperationsService } from './operations.service';

@Module({
  controllers: [OperationsController],
  providers: [OperationRepository, OperationsService, OperationEventsHub],
})
export class OperationsModule {}
