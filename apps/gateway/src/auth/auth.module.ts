import { Module } from '@nestjs/common';
import { DatabaseModule, ServerRepository } from '@hearth/db';
import { ServersModule } from '../servers/servers.module';
import { AuthController } from './auth.controller';
import { SiweService } from './siwe.service';
import { WhoamiController } from './whoami.controller';

@Module({
  imports: [ServersModule, DatabaseModule.forFeature([ServerRepository])],
  controllers: [AuthController, WhoamiController],
  providers: [SiweService],
})
export class AuthModule {}
