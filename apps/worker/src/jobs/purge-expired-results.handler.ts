import { Inject, Injectable } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { EventRepository, OperationRepository, SessionRepository, WebhookRepository } from '@hearth/db';
import { JobName } from '@hearth/queue';
import type { JobHandler } from './job-handler';

const DAY_MS = 86_400_000;
/** Rows each table gives up per sweep (one a minute): a backlog drains over a few runs, never in one long lock. */
const PURGE_BATCH = 5_000;
/** An ended session stays this long (a sign-out that raced its own expiry still finds it), then goes. */
const ENDED_SESSION_GRACE_MS = DAY_MS;

/**
 * Everything whose time is up, every minute. Results are derived from private data: once they expire only the
 * receipt and the access-log row remain. Owner events and the webhooks' delivery log are kept for their retention
 * (EVENTS_RETENTION_DAYS, WEBHOOK_DELIVERIES_RETENTION_DAYS), ended sessions for a day. The access log is the
 * owner's record and is never purged here.
 */
@Injectable()
export class PurgeExpiredResultsHandler implements JobHandler<JobName.PurgeExpiredResults> {
  readonly name = JobName.PurgeExpiredResults;

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    private readonly operations: OperationRepository,
    private readonly events: EventRepository,
    private readonly webhooks: WebhookRepository,
    private readonly sessions: SessionRepository,
  ) {}

  async handle(): Promise<{ purged: number; events: number; deliveries: number; sessions: number }> {
    const now = Date.now();
    const purged = await this.operations.purgeExpiredResults();
    const events = await this.events.purgeBefore(
      new Date(now - this.config.EVENTS_RETENTION_DAYS * DAY_MS),
      PURGE_BATCH,
    );
    const deliveries = await this.webhooks.purgeDeliveriesBefore(
      new Date(now - this.config.WEBHOOK_DELIVERIES_RETENTION_DAYS * DAY_MS),
      PURGE_BATCH,
    );
    const sessions = await this.sessions.purgeEndedBefore(
      new Date(now - ENDED_SESSION_GRACE_MS),
      PURGE_BATCH,
    );
    return { purged, events, deliveries, sessions };
  }
}
