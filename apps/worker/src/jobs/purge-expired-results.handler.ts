import { Injectable } from '@nestjs/common';
import { JobName } from '@hearth/queue';
import { DataSource } from 'typeorm';
import type { JobHandler } from './job-handler';

/** Results are derived from private data: once they expire only the receipt and the access-log row remain. */
@Injectable()
export class PurgeExpiredResultsHandler implements JobHandler<JobName.PurgeExpiredResults> {
  readonly name = JobName.PurgeExpiredResults;

  constructor(private readonly dataSource: DataSource) {}

  async handle(): Promise<{ purged: number }> {
    const result: [unknown[], number] = await this.dataSource.query(
      `UPDATE operations SET result_ciphertext = NULL, result_wrapped_key = NULL
        WHERE result_ciphertext IS NOT NULL AND result_expires_at <= now()`,
    );
    return { purged: result[1] };
  }
}
