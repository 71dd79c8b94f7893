import type { Hex } from 'viem';
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';
import { createSiweMessage } from 'viem/siwe';

export interface NonceInfo {
  nonce: string;
  domain: string;
  /** An origin the message's uri may have. */
  uri: string;
  chainId: number;
}

export interface SignedIn {
  token: string;
  /** EIP-55. */
  address: Hex;
  account: PrivateKeyAccount;
  /** The personal server provisioned at the first sign-in. */
  serverId: string;
}

export async function getNonce(gatewayUrl: string): Promise<NonceInfo> {
  const res = await fetch(`${gatewayUrl}/v1/auth/nonce`);
  if (res.status !== 200) throw new Error(`nonce: ${res.status} ${await res.text()}`);
  return (await res.json()) as NonceInfo;
}

/** A SIWE message as a wallet would build it for the gateway; `overrides` bend any field for negative tests. */
export function siweMessage(
  account: PrivateKeyAccount,
  info: NonceInfo,
  overrides: Partial<Parameters<typeof createSiweMessage>[0]> = {},
): string {
  return createSiweMessage({
    address: account.address,
    chainId: info.chainId,
    domain: info.domain,
    nonce: info.nonce,
    uri: `${info.uri}/`,
    version: '1',
    issuedAt: new Date(),
    statement: 'Sign in to Hearth',
    ...overrides,
  });
}

export function postSiwe(gatewayUrl: string, message: string, signature: string): Promise<Response> {
  return fetch(`${gatewayUrl}/v1/auth/siwe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message, signature }),
  });
}

/**
 * Signs in with a real SIWE message (a fresh wallet unless one is given) and returns the session token and
 * the personal server's id.
 */
export async function signIn(gatewayUrl: string, account?: PrivateKeyAccount): Promise<SignedIn> {
  const wallet = account ?? privateKeyToAccount(generatePrivateKey());
  const info = await getNonce(gatewayUrl);
  const message = siweMessage(wallet, info);
  const res = await postSiwe(gatewayUrl, message, await wallet.signMessage({ message }));
  if (res.status !== 201) throw new Error(`sign-in: ${res.status} ${await res.text()}`);
  const session = (await res.json()) as { token: string; address: Hex };
  const list = await fetch(`${gatewayUrl}/v1/servers?limit=200`, {
    headers: { authorization: `Bearer ${session.token}` },
  });
  if (list.status !== 200) throw new Error(`servers: ${list.status} ${await list.text()}`);
  const { items } = (await list.json()) as { items: Array<{ id: string; kind: string; owner: string }> };
  const personal = items.find((s) => s.kind === 'personal' && s.owner === session.address);
  if (!personal) throw new Error('sign-in provisioned no personal server');
  return { token: session.token, address: session.address, account: wallet, serverId: personal.id };
}

/** `{authorization: Bearer …}` for fetch. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
