import type { JobName, JobPayloads } from '@hearth/queue';
import type { Job } from 'bullmq';

export const JOB_HANDLERS = Symbol('JOB_HANDLERS');

/** One class per job name; the worker refuses to start unless every JobName has exactly one. */
export interface JobHandler<N extends JobName = JobName> {
  readonly name: N;
  handle(job: Job<JobPayloads[N]>, token?: string): Promise<unknown>;
}
