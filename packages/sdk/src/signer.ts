import type { Account, TypedDataDefinition, WalletClient } from 'viem';

/** Who signs for an owner: a viem account (local or JSON-RPC) or a wallet client with an account. */
export type HearthSigner = Account | WalletClient;

export interface ResolvedSigner {
  address: `0x${string}`;
  signMessage(message: string): Promise<`0x${string}`>;
  signTypedData(typedData: Record<string, unknown>): Promise<`0x${string}`>;
}

function isWalletClient(s: HearthSigner): s is WalletClient {
  return (
    typeof (s as WalletClient).request === 'function' &&
    typeof (s as WalletClient).signTypedData === 'function'
  );
}

/** One interface over accounts and wallet clients; the typed data is signed exactly as the gateway returned it. */
export async function resolveSigner(signer: HearthSigner): Promise<ResolvedSigner> {
  if (isWalletClient(signer)) {
    const account = signer.account ?? (await signer.getAddresses())[0];
    if (!account) throw new Error('the wallet client has no account');
    const address = typeof account === 'string' ? account : account.address;
    return {
      address,
      signMessage: (message) => signer.signMessage({ account, message }),
      signTypedData: (typedData) =>
        signer.signTypedData({ account, ...(typedData as unknown as TypedDataDefinition) }),
    };
  }
  const account = signer;
  if (!account.signMessage || !account.signTypedData) {
    throw new Error('this account cannot sign here: pass a local account or a wallet client');
  }
  return {
    address: account.address,
    signMessage: (message) => account.signMessage({ message }),
    signTypedData: (typedData) => account.signTypedData(typedData as unknown as TypedDataDefinition),
  };
}
