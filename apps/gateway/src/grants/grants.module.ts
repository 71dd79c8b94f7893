import { Module } from '@nestjs/common';
import { GrantsController, PolicyController } from './grants.controller';
import { GrantsService } from './grants.service';

@Module({ controllers: [GrantsController, PolicyController], providers: [GrantsService] })
export class GrantsModule {}
