import { Injectable } from '@nestjs/common';
import { JobName } from '@hearth/queue';
import type { Job } from 'bullmq';
import type { RunOperationPayload } from '@hearth/queue';
import type { JobHandler } from './job-handler';

/** Runs one operation in an isolated child process (see ../isolation). Filled in by the pipeline. */
@Injectable()
export class RunOperationHandler implements JobHandler<JobName.RunOperation> {
  readonly name = JobName.RunOperation;

  handle(job: Job<RunOperationPayload>): Promise<unknown> {
    return Promise.reject(new Error(`operation pipeline not available for ${job.data.operationId}`));
  }
}
