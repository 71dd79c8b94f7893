import { GrantRelayer } from '@hearth/permissions';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import type { HearthConfig } from '@hearth/config';
import { HearthOwner } from '@hearth/sdk';
import { bearer, signIn } from './siwe';

export interface Tenant {
  owner: PrivateKeyAccount;
  token: string;
  serverId: string;
  serverAddress: `0x${string}`;
}

export interface App {
  account: PrivateKeyAccount;
  keyId: string;
  key: string;
}

export async function json<T>(res: Response): Promise<T> {
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** A signed-in owner with their provisioned personal server. */
export async function newTenant(url: string): Promise<Tenant> {
  const owner = privateKeyToAccount(generatePrivateKey());
  const s = await signIn(url, owner);
  const server = await ownerClient(url, s.token).getServer(s.serverId);
  return { owner, token: s.token, serverId: s.serverId, serverAddress: server.address };
}

/** The SDK's owner client for a session token (no retries: tests see each 429/503 as it comes). */
export function ownerClient(url: string, token: string): HearthOwner {
  return new HearthOwner({ baseUrl: url, token, retry: { retries: 0 } });
}

export async function uploadText(url: string, t: Tenant, name: string, text: string): Promise<string> {
  return (await ownerClient(url, t.token).upload(t.serverId, text, { name, contentType: 'text/plain' })).id;
}

export async function newApp(url: string, t: Tenant, extra: Record<string, unknown> = {}): Promise<App> {
  const account = privateKeyToAccount(generatePrivateKey());
  const body = await ownerClient(url, t.token).createApiKey(t.serverId, {
    name: 'test app',
    appAddress: account.address,
    ...extra,
  });
  return { account, keyId: body.id, key: body.key };
}

export function relayerFor(config: HearthConfig): GrantRelayer {
  return new GrantRelayer({
    rpcUrl: config.CHAIN_RPC_URL,
    chainId: config.CHAIN_ID,
    dataPermissionsAddress: config.dataPermissionsAddress!,
    relayerPrivateKey: config.relayerPrivateKey!,
  });
}

/** The owner signs a grant and the platform relays it (through the library, as the grants API does). */
export async function grant(
  relayer: GrantRelayer,
  t: Tenant,
  grantee: `0x${string}`,
  operations: string[],
  fileIds: string[],
  opts: { expiresAt?: Date } = {},
): Promise<string> {
  const typedData = await relayer.buildGrantTypedData({
    grantor: t.owner.address,
    grantee,
    serverId: t.serverId,
    operations,
    fileIds,
    ...opts,
  });
  const signature = await t.owner.signTypedData(typedData);
  return (await relayer.relayGrant(typedData, signature)).grantId;
}

export async function revoke(relayer: GrantRelayer, t: Tenant, grantId: string): Promise<void> {
  const typedData = await relayer.buildRevokeTypedData({ grantor: t.owner.address, grantId });
  await relayer.relayRevoke(typedData, await t.owner.signTypedData(typedData));
}

export interface OperationBody {
  id: string;
  status: string;
  fileIds?: string[];
  result?: unknown;
  receipt?: { typedData: Record<string, unknown>; signature: `0x${string}`; signer: `0x${string}` };
  error?: { code: string; detail: string };
  timings?: Record<string, number>;
}

export async function submit(
  url: string,
  app: App,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${url}/v1/operations`, {
    method: 'POST',
    headers: { ...bearer(app.key), 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** Polls until the operation ends (the SSE stream is tested on its own). */
export async function waitDone(
  url: string,
  app: App,
  id: string,
  timeoutMs = 30_000,
): Promise<OperationBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const op = await json<OperationBody>(
      await fetch(`${url}/v1/operations/${id}`, { headers: bearer(app.key) }),
    );
    if (!['queued', 'running'].includes(op.status)) return op;
    if (Date.now() > deadline) throw new Error(`operation ${id} still ${op.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
