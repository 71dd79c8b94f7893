import { Injectable } from '@nestjs/common';
import { OperationRepository } from '@hearth/db';
import { JobName } from '@hearth/queue';
import type { JobHandler } from './job-handler';

/** Results are derived from private data: once they expire only the receipt and the access-log row remain. */
@Injectable()
export class PurgeExpiredResultsHandler implements JobHandler<JobName.PurgeExpiredResults> {
  readonly name = JobName.PurgeExpiredResults;

  constructor(private readonly operations: OperationRepository) {}

  async handle(): Promise<{ purged: number }> {
    return { purged: await this.operations.purgeExpiredResults() };
  }
}
