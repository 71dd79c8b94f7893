import { Module } from '@nestjs/common';
import {
  AccessLogRepository,
  CollectiveDataRepository,
  DatabaseModule,
  FileRepository,
  OperationRepository,
} from '@hearth/db';
import { AppDiscoveryModule } from '../app-discovery/app-discovery.module';
import { OperationsController } from './operations.controller';
import { OperationsService } from './operations.service';

@Module({
  imports: [
    AppDiscoveryModule,
    DatabaseModule.forFeature([
      OperationRepository,
      FileRepository,
      AccessLogRepository,
      CollectiveDataRepository,
    ]),
  ],
  controllers: [OperationsController],
  providers: [OperationsService],
  exports: [OperationsService],
})
export class OperationsModule {}
