import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { PinoLogger } from 'nestjs-pino';
import { ChildPool } from '../isolation';

/** The worker's child entry (child.ts beside this file): the operation task and its warm-up. */
export const WORKER_CHILD_SCRIPT = require.resolve('./child');

/** The worker's pool of isolated children, sized to the queue concurrency (one job per child at a time). */
@Injectable()
export class IsolationPool implements OnApplicationShutdown {
  readonly pool: ChildPool;

  constructor(@Inject(HEARTH_CONFIG) config: HearthConfig, logger: PinoLogger) {
    logger.setContext('isolation');
    this.pool = new ChildPool({
      childScript: WORKER_CHILD_SCRIPT,
      mode: config.ISOLATION_MODE,
      size: config.WORKER_CONCURRENCY,
      maxJobsPerChild: config.CHILD_MAX_JOBS,
      maxRssMb: config.CHILD_MAX_RSS_MB,
      memoryCapMb: config.CHILD_MEMORY_CAP_MB,
      jobTimeoutMs: config.JOB_TIMEOUT_MS,
      // The scrubbed environment: no database, Redis or cloud credentials; key-manager options arrive per job
      // over IPC and are wiped with the job.
      env: { NODE_ENV: config.NODE_ENV, TZ: 'UTC', HEARTH_CHILD_RPC_URL: config.CHAIN_RPC_URL },
      onEvent: (event) => {
        if (event.type === 'recycle' || (event.type === 'exit' && !event.expected))
          logger.info({ event }, 'child lifecycle');
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.close();
  }
}
