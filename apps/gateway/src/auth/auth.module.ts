import { Module } from '@nestjs/common';
import { ServersModule } from '../servers/servers.module';
import { AuthController } from './auth.controller';
import { SiweService } from './siwe.service';
import { WhoamiController } from './whoami.controller';

@Module({
  imports: [ServersModule],
  controllers: [AuthController, WhoamiController],
  providers: [SiweService],
})
export class AuthModule {}
