import type { HearthConfig } from '@hearth/config';

/** Dev-chain plumbing for the test, start and demo scripts. */
export interface ChainHandle {
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startChainForTests(_home: string): Promise<ChainHandle> {
  return { env: {}, stop: async () => undefined };
}

export async function startChainForDev(_env: NodeJS.ProcessEnv, _config: HearthConfig, _log: (line: string) => void): Promise<ChainHandle> {
  return { env: {}, stop: async () => undefined };
}
