import { Module } from '@nestjs/common';
import { OperationRepository } from '@hearth/db';
import { OperationsController } from './operations.controller';
import { OperationsService } from './operations.service';

@Module({
  controllers: [OperationsController],
  providers: [OperationRepository, OperationsService],
})
export class OperationsModule {}
