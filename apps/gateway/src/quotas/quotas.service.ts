import { Inject, Injectable } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { QuotaExceededError, QuotaRepository } from '@hearth/db';
import { quotaProblem } from '../common/library-errors';

/** One quota as `GET /v1/servers/:id/usage` shows it. */
export interface QuotaStanding {
  used: number;
  limit: number;
}

export interface QuotasView {
  servers: QuotaStanding;
  collectives: QuotaStanding;
  relayedTransactionsToday: QuotaStanding;
  storageBytes: QuotaStanding;
}

/**
 * The owner-side quotas (QUOTA_* settings). Each is enforced in SQL where the row is written, so concurrent
 * requests cannot overshoot; this service holds the limits, spends relayed transactions, and reports standing.
 */
@Injectable()
export class QuotasService {
  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    private readonly quotas: QuotaRepository,
  ) {}

  /** What ServerRepository.createCollective enforces. */
  get collectiveLimits(): { servers: number; collectives: number } {
    return {
      servers: this.config.QUOTA_SERVERS_PER_ACCOUNT,
      collectives: this.config.QUOTA_COLLECTIVES_PER_ACCOUNT,
    };
  }

  get storageBytesPerServer(): number {
    return this.config.QUOTA_STORAGE_BYTES_PER_SERVER;
  }

  /**
   * Before a collective's contract is deployed: an account at its server or collective quota is refused before
   * the relayer pays anything (the insert re-checks under a lock: a race loses there).
   */
  async beforeCollective(accountId: string, serverId: string): Promise<void> {
    const used = await this.quotas.usage(accountId, serverId);
    const { servers, collectives } = this.collectiveLimits;
    if (used.servers >= servers) throw quotaProblem(new QuotaExceededError('servers', servers));
    if (used.collectives >= collectives)
      throw quotaProblem(new QuotaExceededError('collectives', collectives));
  }

  /** Spends one of the account's relayed transactions for today, or refuses with 403 quota_exceeded. */
  async spendRelayedTransaction(accountId: string): Promise<void> {
    const limit = this.config.QUOTA_RELAYED_TX_PER_DAY;
    if (!(await this.quotas.spendRelayedTransaction(accountId, limit)))
      throw quotaProblem(new QuotaExceededError('relayed_transactions_per_day', limit));
  }

  async view(accountId: string, serverId: string): Promise<QuotasView> {
    const used = await this.quotas.usage(accountId, serverId);
    return {
      servers: { used: used.servers, limit: this.config.QUOTA_SERVERS_PER_ACCOUNT },
      collectives: { used: used.collectives, limit: this.config.QUOTA_COLLECTIVES_PER_ACCOUNT },
      relayedTransactionsToday: {
        used: used.relayedTransactionsToday,
        limit: this.config.QUOTA_RELAYED_TX_PER_DAY,
      },
      storageBytes: { used: used.storedBytes, limit: this.config.QUOTA_STORAGE_BYTES_PER_SERVER },
    };
  }
}
