/** The quotas a repository enforces in SQL. */
export type QuotaName = 'servers' | 'collectives' | 'relayed_transactions_per_day' | 'storage_bytes';

/** A write refused because it would take the tenant (or account) past a quota; nothing was written. */
export class QuotaExceededError extends Error {
  constructor(
    readonly quota: QuotaName,
    readonly limit: number,
  ) {
    super(`quota ${quota} (${limit}) reached`);
    this.name = 'QuotaExceededError';
  }
}

export function isQuotaExceededError(err: unknown): err is QuotaExceededError {
  return err instanceof QuotaExceededError;
}
