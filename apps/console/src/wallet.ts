import { createWalletClient, custom, type EIP1193Provider, type WalletClient } from 'viem';

/** A wallet the page found: announced through EIP-6963, or the legacy `window.ethereum`. */
export interface DiscoveredWallet {
  id: string;
  name: string;
  icon?: string;
  provider: EIP1193Provider;
}

interface AnnounceEvent extends Event {
  detail: { info: { uuid: string; name: string; icon: string; rdns: string }; provider: EIP1193Provider };
}

/**
 * EIP-6963: listen for `eip6963:announceProvider`, then ask every installed wallet to announce itself. Waits a
 * moment for answers (wallets answer synchronously or nearly), and falls back to `window.ethereum` when none did.
 */
export async function discoverWallets(waitMs = 200): Promise<DiscoveredWallet[]> {
  const found = new Map<string, DiscoveredWallet>();
  const onAnnounce = (event: Event): void => {
    const { info, provider } = (event as AnnounceEvent).detail;
    if (!info?.uuid || typeof provider?.request !== 'function') return;
    found.set(info.uuid, { id: info.rdns || info.uuid, name: info.name, icon: info.icon, provider });
  };
  window.addEventListener('eip6963:announceProvider', onAnnounce);
  window.dispatchEvent(new Event('eip6963:requestProvider'));
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  window.removeEventListener('eip6963:announceProvider', onAnnounce);
  const legacy = (window as unknown as { ethereum?: EIP1193Provider }).ethereum;
  if (found.size === 0 && legacy && typeof legacy.request === 'function') {
    found.set('injected', { id: 'injected', name: 'Browser wallet', provider: legacy });
  }
  return [...found.values()];
}

let connected: { wallet: DiscoveredWallet; client: WalletClient } | undefined;

/** Asks the wallet for an account (eth_requestAccounts) and keeps its client for every later signature. */
export async function connectWallet(wallet: DiscoveredWallet): Promise<WalletClient> {
  const [address] = await wallet.provider.request({ method: 'eth_requestAccounts' });
  if (!address) throw new Error('The wallet returned no account.');
  const client = createWalletClient({ account: address, transport: custom(wallet.provider) });
  connected = { wallet, client };
  return client;
}

export function connectedWallet(): WalletClient | undefined {
  return connected?.client;
}

export function forgetWallet(): void {
  connected = undefined;
}

/** The wallet's current chain id (eth_chainId). */
export async function walletChainId(client: WalletClient): Promise<number> {
  return client.getChainId();
}

export class WrongChainError extends Error {
  constructor(
    readonly walletChainId: number,
    readonly expectedChainId: number,
  ) {
    super(
      `Your wallet is on chain ${walletChainId}, but this Hearth signs on chain ${expectedChainId}. ` +
        `Switch your wallet to chain ${expectedChainId} and try again.`,
    );
    this.name = 'WrongChainError';
  }
}

/** Refuses to sign while the wallet is on another chain: typed data names its chain, and wallets check it. */
export async function requireChain(client: WalletClient, expected: number): Promise<void> {
  const actual = await walletChainId(client);
  if (actual !== expected) throw new WrongChainError(actual, expected);
}

/** Asks the wallet to switch (EIP-3326); wallets that do not know the chain refuse. */
export async function switchChain(client: WalletClient, chainId: number): Promise<void> {
  await client.request({
    method: 'wallet_switchEthereumChain',
    params: [{ chainId: `0x${chainId.toString(16)}` }],
  });
}

/** True for an EIP-1193 "user rejected the request" (4001), however deep a library wrapped it. */
export function isUserRejection(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; depth++) {
    if (e.code === 4001) return true;
    if ((e as { name?: string }).name === 'UserRejectedRequestError') return true;
    e = e.cause as typeof e;
  }
  return false;
}

/**
 * The wallet of the signed-in account: the one connected this page load, else (after a reload) the discovered
 * wallet that already has the account (eth_accounts asks nothing), else the first one, asked for an account.
 */
export async function walletFor(address: string): Promise<WalletClient> {
  const current = connected?.client;
  if (current?.account && current.account.address.toLowerCase() === address.toLowerCase()) return current;
  const wallets = await discoverWallets();
  if (wallets.length === 0) throw new Error('No browser wallet found: install one to sign.');
  for (const wallet of wallets) {
    const accounts = await wallet.provider.request({ method: 'eth_accounts' });
    if (accounts.some((a) => a.toLowerCase() === address.toLowerCase())) {
      const client = createWalletClient({
        account: address as `0x${string}`,
        transport: custom(wallet.provider),
      });
      connected = { wallet, client };
      return client;
    }
  }
  const client = await connectWallet(wallets[0]);
  if (client.account?.address.toLowerCase() !== address.toLowerCase()) {
    throw new Error(`Your wallet's account is ${client.account?.address}, but you signed in as ${address}.`);
  }
  return client;
}
