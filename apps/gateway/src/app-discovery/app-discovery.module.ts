import { Module } from '@nestjs/common';
import { DatabaseModule, FileRepository } from '@hearth/db';
import { AppDiscoveryController } from './app-discovery.controller';
import { AppGrants } from './app-grants.service';

@Module({
  imports: [DatabaseModule.forFeature([FileRepository])],
  controllers: [AppDiscoveryController],
  providers: [AppGrants],
  exports: [AppGrants],
})
export class AppDiscoveryModule {}
