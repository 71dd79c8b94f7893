import { Global, Module } from '@nestjs/common';
import { DatabaseModule, QuotaRepository } from '@hearth/db';
import { QuotasService } from './quotas.service';

/** Owner-side quotas, available to every feature module that spends them. */
@Global()
@Module({
  imports: [DatabaseModule.forFeature([QuotaRepository])],
  providers: [QuotasService],
  exports: [QuotasService],
})
export class QuotasModule {}
