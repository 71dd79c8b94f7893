import { createPublicClient, defineChain, http, type Chain, type PublicClient } from 'viem';

/** A viem chain for an arbitrary chain id and RPC URL (dev chain, Vana, Moksha, …). */
export function hearthChain(chainId: number, rpcUrl: string): Chain {
  return defineChain({
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

export interface ClientOptions {
  rpcUrl: string;
  chainId: number;
  timeoutMs?: number;
  /** Poll interval for event watchers. */
  pollingIntervalMs?: number;
  /** JSON-RPC batching: requests issued in the same tick travel in one HTTP request. */
  batch?: boolean;
}

export function createHearthPublicClient(opts: ClientOptions): PublicClient {
  return createPublicClient({
    chain: hearthChain(opts.chainId, opts.rpcUrl),
    // why cacheTime 0: viem caches eth_blockNumber for the polling interval by default; a permission
    // check must see the current head, not one from seconds ago.
    cacheTime: 0,
    pollingInterval: opts.pollingIntervalMs ?? 1000,
    transport: http(opts.rpcUrl, {
      timeout: opts.timeoutMs ?? 10_000,
      retryCount: 0, // fail fast: callers decide what a failure means (the checker denies)
      batch: opts.batch ?? false,
    }),
  });
}
