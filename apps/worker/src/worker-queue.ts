import { Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { OperationQueue, retryPolicyFromConfig } from '@hearth/queue';

/** The worker's OperationQueue: it consumes jobs, and publishes status and gives backlogs back for them. */
export const workerQueueProvider: Provider = {
  provide: OperationQueue,
  inject: [HEARTH_CONFIG],
  useFactory: (config: HearthConfig) =>
    new OperationQueue({
      redisUrl: config.REDIS_URL,
      prefix: config.QUEUE_PREFIX,
      retry: retryPolicyFromConfig(config),
    }),
};

@Injectable()
export class WorkerQueueCloser implements OnApplicationShutdown {
  constructor(private readonly queue: OperationQueue) {}
  /** Waits for the running jobs (their outcomes still publish and release) before the connections close. */
  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
