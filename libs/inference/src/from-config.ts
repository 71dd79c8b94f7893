import type { HearthConfig } from '@hearth/config';
import type { InferenceOptions } from './types';

/** Engines as the deployment configures them: openai only with a base URL, llama only with a model path. */
export function inferenceOptionsFromConfig(config: HearthConfig): InferenceOptions {
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
    ...(config.LLAMA_MODEL_PATH ? { llama: { modelPath: config.LLAMA_MODEL_PATH } } : {}),
  };
}
