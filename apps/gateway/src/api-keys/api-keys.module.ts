import { Module } from '@nestjs/common';
import { ApiKeyRepository, DatabaseModule } from '@hearth/db';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';

@Module({
  imports: [DatabaseModule.forFeature([ApiKeyRepository])],
  controllers: [ApiKeysController],
  providers: [ApiKeysService],
})
export class ApiKeysModule {}
