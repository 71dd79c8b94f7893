import type { ApiKeyServer } from '@hearth/db';
import type { FastifyRequest } from 'fastify';

/** The signed-in owner (SessionGuard). */
export interface SessionAccount {
  accountId: string;
  /** EIP-55 checksummed wallet address. */
  address: `0x${string}`;
  sessionId: string;
}

/** The app calling with an API key (ApiKeyGuard). */
export interface AuthenticatedApiKey {
  id: string;
  /** The one server (tenant) this key belongs to. */
  serverId: string;
  name: string;
  /** EIP-55 address of the app's wallet: the grantee of grants. */
  appAddress: `0x${string}`;
  /** null = every operation allowed. */
  operations: string[] | null;
  /** null = any origin. */
  origins: string[] | null;
  ratePerMinute: number;
  /** The key's server as read with the key, at authentication (kind, owner, KMS key, permission policy). */
  server: ApiKeyServer;
}

export interface AuthedRequest extends FastifyRequest {
  hearthAccount?: SessionAccount;
  hearthApiKey?: AuthenticatedApiKey;
}
