import { Injectable, Logger } from '@nestjs/common';
import { EventRepository, type NewEvent } from '@hearth/db';

/**
 * Records the owner's events of gateway-side facts (grants relayed, keys created, members joined…), right after
 * the fact itself committed. The fact is true by then: an event that cannot be written is logged as an error,
 * never turned into a failure of the request that made the fact. (Operation outcomes and refusals record theirs
 * in the same statement as the outcome: OperationRepository, AccessLogRepository.)
 */
@Injectable()
export class OwnerEvents {
  private readonly logger = new Logger(OwnerEvents.name);

  constructor(private readonly events: EventRepository) {}

  /** The one call for recording an event: `await events.record(server.id, { type: 'grant.added', data: {…} })`. */
  async record(serverId: string, event: NewEvent, dedupeKey: string | null = null): Promise<void> {
    try {
      await this.events.record(serverId, event, dedupeKey);
    } catch (err) {
      this.logger.error(
        { tenantId: serverId, type: event.type, err: err instanceof Error ? err.message : String(err) },
        'an owner event could not be recorded',
      );
    }
  }
}
