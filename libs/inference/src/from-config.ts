import { availableParallelism } from 'node:os';
import type { HearthConfig } from '@hearth/config';
import type { InferenceOptions } from './types';

/** LLAMA_THREADS unset: half the cores, so a child's model never takes every core of a small machine. */
export function defaultLlamaThreads(cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / 2));
}

/** Engines as the deployment configures them: openai only with a base URL, llama only with a model path. */
export function inferenceOptionsFromConfig(config: HearthConfig): InferenceOptions {
  const llmEngine =
    config.LLM_ENGINE ?? (config.LLAMA_MODEL_PATH ? 'llama' : config.OPENAI_BASE_URL ? 'openai' : undefined);
  return {
    ...(config.OPENAI_BASE_URL
      ? {
          openai: {
            baseUrl: config.OPENAI_BASE_URL,
            apiKey: config.OPENAI_API_KEY,
            model: config.OPENAI_MODEL,
            trustedBaseUrls: config.OPENAI_TRUSTED_BASE_URLS,
            timeoutMs: config.OPENAI_TIMEOUT_MS,
          },
        }
      : {}),
    ...(config.LLAMA_MODEL_PATH
      ? {
          llama: {
            modelPath: config.LLAMA_MODEL_PATH,
            threads: config.LLAMA_THREADS ?? defaultLlamaThreads(),
            contextSize: config.LLAMA_CONTEXT_SIZE,
            timeoutMs: config.LLAMA_TIMEOUT_MS,
          },
        }
      : {}),
    ...(llmEngine ? { llmEngine } : {}),
  };
}
