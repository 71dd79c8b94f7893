import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { llamaResidentEstimateMb } from '@hearth/inference';
import { PinoLogger } from 'nestjs-pino';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ChildPool } from '../isolation';
import {
  codePathsFor,
  levelRank,
  probeSandbox,
  type SandboxLevel,
  type SandboxSpec,
} from '../isolation/sandbox';

/** The worker's sandbox entry (child.ts beside this file): the operation task and its warm-up. */
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
/** What readiness and receipts say about the sandboxes. */
export interface SandboxReport {
  level: SandboxLevel;
  details: string[];
}

/** Thrown at start when the host allows less confinement than SANDBOX_MIN_LEVEL. */
export class SandboxLevelError extends Error {}

/** The sandbox the configuration and the host give: probed once, checked against the minimum. */
export function sandboxFromConfig(
  config: HearthConfig,
  childScript: string,
  modelMb: number = childRecycleMarkMb(config).modelMb,
): SandboxSpec {
  const probe = probeSandbox(config.SANDBOX_LEVEL);
  const minimum = config.SANDBOX_MIN_LEVEL ?? (config.NODE_ENV === 'production' ? 'namespaced' : 'none');
  if (levelRank(probe.level) < levelRank(minimum)) {
    const why = probe.details.join('; ') || 'not available';
    throw new SandboxLevelError(
      `sandbox level ${probe.level} is below SANDBOX_MIN_LEVEL=${minimum} (${why}); grant what docs/architecture.md#sandbox-levels lists or lower SANDBOX_MIN_LEVEL explicitly`,
    );
  }
  const readOnlyPaths = codePathsFor(childScript);
  if (config.LLAMA_MODEL_PATH) readOnlyPaths.push(resolve(config.LLAMA_MODEL_PATH));
  // An OpenAI-compatible engine sends data to its (trusted) endpoint from the sandbox: it needs a network.
  const shareNetwork = Boolean(config.OPENAI_BASE_URL);
  const details = [...probe.details];
  if (probe.level === 'namespaced') {
    details.push(
      shareNetwork
        ? 'network namespace shared: OPENAI_BASE_URL is set and the OpenAI-compatible engine runs in the sandbox'
        : 'no network: own network namespace with only its own loopback',
    );
    if (probe.seccomp) details.push('seccomp filter: loaded (a deny list of kernel interfaces)');
  }
  return {
    level: probe.level,
    probe: { ...probe, details },
    // A local model's weights and KV cache live in native memory: the address-space cap makes room for them.
    limits: {
      addressSpaceMb: config.SANDBOX_MEMORY_MB + modelMb,
      cpuSeconds: 0,
      maxProcesses: 64,
    },
    readOnlyPaths,
    shareNetwork,
  };
}

/**
 * sha256 over the worker's compiled code (dist/apps/worker and dist/libs: every file's path and bytes, in
 * path order), computed once at start: receipts state it, so a verifier can tell which build produced them.
 */
export function workerCodeHash(entry: string = WORKER_CHILD_SCRIPT): `0x${string}` {
  let dist = dirname(entry);
  while (dist !== dirname(dist) && !dist.endsWith('/dist')) dist = dirname(dist);
  const roots = dist.endsWith('/dist')
    ? [join(dist, 'apps', 'worker'), join(dist, 'libs')]
    : [dirname(entry)];
  const files: string[] = [];
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.isFile() && !e.name.endsWith('.map')) files.push(path);
    }
  };
  for (const root of roots) walk(root);
  files.sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(relative(dist, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return `0x${hash.digest('hex')}`;
}

/** The worker's pool of sandboxes, sized to the queue concurrency (one job per sandbox at a time). */
@Injectable()
export class IsolationPool implements OnApplicationShutdown {
  readonly pool: ChildPool;
  readonly sandbox: SandboxReport;
  readonly codeHash: `0x${string}`;

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
    // The model's header is read once: the same estimate sets the recycle mark and the address-space cap.
    const spec = sandboxFromConfig(config, WORKER_CHILD_SCRIPT, recycle.modelMb);
    this.sandbox = { level: spec.level, details: spec.probe.details };
    this.codeHash = workerCodeHash();
    logger.info({ sandbox: this.sandbox }, 'sandbox level');
    this.pool = new ChildPool({
      childScript: WORKER_CHILD_SCRIPT,
      mode: config.ISOLATION_MODE,
      size: config.WORKER_CONCURRENCY,
      maxJobsPerChild: config.CHILD_MAX_JOBS,
      maxRssMb: recycle.markMb,
      memoryCapMb: config.CHILD_MEMORY_CAP_MB,
      jobTimeoutMs: config.JOB_TIMEOUT_MS,
      sandbox: spec,
      // Built from scratch: no database, Redis, admin or cloud credentials, no key manager. The job's keys
      // arrive over IPC and are wiped with the job.
      // HOME: the sandbox uid has no passwd entry, and native runtimes (node-llama-cpp) ask for a home directory.
      env: { NODE_ENV: config.NODE_ENV, TZ: 'UTC', HOME: '/tmp' },
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
