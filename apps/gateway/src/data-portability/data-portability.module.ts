import { Module } from '@nestjs/common';
import {
  AccessLogRepository,
  DatabaseModule,
  DataPortabilityRepository,
  FileRepository,
  ServerRepository,
  SessionRepository,
} from '@hearth/db';
import { DataPortabilityController } from './data-portability.controller';
import { DataPortabilityService } from './data-portability.service';
import { ReceiptSigner } from './receipt-signer';
import { DataPortabilityScopesController } from './scopes.controller';

/** The Data Portability Protocol's Personal Server API per hosted server, and Hearth's readable-scope setting. */
@Module({
  imports: [
    DatabaseModule.forFeature([
      DataPortabilityRepository,
      FileRepository,
      AccessLogRepository,
      ServerRepository,
      SessionRepository,
    ]),
  ],
  controllers: [DataPortabilityController, DataPortabilityScopesController],
  providers: [DataPortabilityService, ReceiptSigner],
  exports: [DataPortabilityService, ReceiptSigner],
})
export class DataPortabilityModule {}
