import { getAddress } from 'viem';
import type { ServerPolicy } from './checker';

/**
 * The server fields that decide its policy. Structural, so this lib needs nothing of @hearth/db (whose
 * ServerEntity has them, as do the rows the gateway and worker read).
 */
export interface ServerPolicyFields {
  policyKind: 'grants' | 'contract' | 'whitelist';
  policyAddress: string | null;
}

/**
 * What the permission checker asks for a server: DataPermissions grants, or `authorized(app, fileId)` on the
 * server's own contract (`contract`, set by the owner) or on a collective's Whitelist (`whitelist`), which
 * implement the same interface.
 */
export function serverPolicy(server: ServerPolicyFields): ServerPolicy {
  switch (server.policyKind) {
    case 'grants':
      return { kind: 'grants' };
    case 'contract':
    case 'whitelist':
      if (!server.policyAddress) throw new Error(`a ${server.policyKind} policy without a contract address`);
      return { kind: 'contract', address: getAddress(server.policyAddress) };
    default: {
      // The column's CHECK allows no other kind; a new one must be mapped here, not guessed.
      const kind: never = server.policyKind;
      throw new Error(`unknown policy kind ${String(kind)}`);
    }
  }
}
