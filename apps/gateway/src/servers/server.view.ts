import type { ServerEntity } from '@hearth/db';
import { getAddress } from 'viem';

/** A server as the API shows it: public identity only (never the wrapped key or the key reference). */
export interface ServerView {
  id: string;
  kind: ServerEntity['kind'];
  name: string;
  address: `0x${string}`;
  publicKey: string;
  owner: `0x${string}`;
  policy: { kind: ServerEntity['policyKind']; address?: `0x${string}` };
  createdAt: string;
}

export function toServerView(s: ServerEntity): ServerView {
  return {
    id: s.id,
    kind: s.kind,
    name: s.name,
    address: getAddress(s.address),
    publicKey: s.publicKey,
    owner: getAddress(s.ownerAddress),
    policy: { kind: s.policyKind, ...(s.policyAddress ? { address: getAddress(s.policyAddress) } : {}) },
    createdAt: s.createdAt.toISOString(),
  };
}

export const SERVER_VIEW_SCHEMA = {
  type: 'object',
  required: ['id', 'kind', 'name', 'address', 'publicKey', 'owner', 'policy', 'createdAt'],
  properties: {
    id: { type: 'string', example: 'srv_0197a1b2c3d47e8f9a0b1c2d3e4f5a6b' },
    kind: { type: 'string', enum: ['personal', 'collective'] },
    name: { type: 'string' },
    address: { type: 'string', description: "EIP-55 address of the server's secp256k1 identity" },
    publicKey: { type: 'string', description: 'Uncompressed secp256k1 public key (0x04…): encrypt to it' },
    owner: { type: 'string', description: 'EIP-55 address of the owner' },
    policy: {
      type: 'object',
      required: ['kind'],
      properties: {
        kind: { type: 'string', enum: ['grants', 'contract', 'whitelist'] },
        address: { type: 'string' },
      },
    },
    createdAt: { type: 'string', format: 'date-time' },
  },
};
