import { Module } from '@nestjs/common';
import { AccountRepository, DatabaseModule, MemberRepository, ServerRepository } from '@hearth/db';
import { ServerProvisioner } from './server-provisioner.service';
import { ServersController } from './servers.controller';
import { ServersService } from './servers.service';

@Module({
  imports: [DatabaseModule.forFeature([AccountRepository, ServerRepository, MemberRepository])],
  controllers: [ServersController],
  providers: [ServersService, ServerProvisioner],
  exports: [ServerProvisioner],
})
export class ServersModule {}
