import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { llamaResidentEstimateMb } from '@hearth/inference';
import { PinoLogger } from 'nestjs-pino';
import { ChildPool } from '../isolation';

/** The worker's child entry (child.ts beside this file): the operation task and its warm-up. */
export const WORKER_CHILD_SCRIPT = require.resolve('./child');

/**
 * The children's recycle mark: CHILD_MAX_RSS_MB, plus what a loaded local model holds when the llama engine is
 * configured (weights, one context's KV cache, llama.cpp itself). Without it a model larger than the margin would
 * push every child past the mark after its first LLM job, and the model would be loaded again for every job.
 */
export function childRecycleMarkMb(
  config: Pick<HearthConfig, 'CHILD_MAX_RSS_MB' | 'LLAMA_MODEL_PATH' | 'LLAMA_CONTEXT_SIZE'>,
): { markMb: number; modelMb: number; modelError?: string } {
  if (!config.LLAMA_MODEL_PATH) return { markMb: config.CHILD_MAX_RSS_MB, modelMb: 0 };
  try {
    const modelMb = llamaResidentEstimateMb(config.LLAMA_MODEL_PATH, config.LLAMA_CONTEXT_SIZE);
    return { markMb: config.CHILD_MAX_RSS_MB + modelMb, modelMb };
  } catch (e) {
    // The engine reports the missing or unreadable file on the operation itself; the pool starts regardless.
    return {
      markMb: config.CHILD_MAX_RSS_MB,
      modelMb: 0,
      modelError: e instanceof Error ? e.message : String(e),
    };
  }
}

/** The worker's pool of isolated children, sized to the queue concurrency (one job per child at a time). */
@Injectable()
export class IsolationPool implements OnApplicationShutdown {
  readonly pool: ChildPool;

  constructor(@Inject(HEARTH_CONFIG) config: HearthConfig, logger: PinoLogger) {
    logger.setContext('isolation');
    const recycle = childRecycleMarkMb(config);
    logger.info(
      {
        markMb: recycle.markMb,
        modelMb: recycle.modelMb,
        ...(recycle.modelError ? { error: recycle.modelError } : {}),
      },
      'child recycle mark',
    );
    this.pool = new ChildPool({
      childScript: WORKER_CHILD_SCRIPT,
      mode: config.ISOLATION_MODE,
      size: config.WORKER_CONCURRENCY,
      maxJobsPerChild: config.CHILD_MAX_JOBS,
      maxRssMb: recycle.markMb,
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
