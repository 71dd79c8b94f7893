import { Global, Module } from '@nestjs/common';
import { DatabaseModule, EventRepository, WebhookRepository } from '@hearth/db';
import { EventsController } from './events.controller';
import { OwnerEvents } from './owner-events';
import { WebhooksService } from './webhooks.service';

/** The owner's event feed and webhooks; OwnerEvents is global, for every feature that records a fact. */
@Global()
@Module({
  imports: [DatabaseModule.forFeature([EventRepository, WebhookRepository])],
  controllers: [EventsController],
  providers: [OwnerEvents, WebhooksService],
  exports: [OwnerEvents],
})
export class EventsModule {}
