import { Module } from '@nestjs/common';
import { ServerProvisioner } from './server-provisioner.service';
import { ServersController } from './servers.controller';
import { ServersService } from './servers.service';

@Module({
  controllers: [ServersController],
  providers: [ServersService, ServerProvisioner],
  exports: [ServerProvisioner],
})
export class ServersModule {}
