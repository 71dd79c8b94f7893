import type { MemberEntity } from '@hearth/db';
import { getAddress } from 'viem';
import { z } from 'zod';

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte address');

/** `POST /v1/servers`: only collectives are created here; a personal server is made at first sign-in. */
export const createServerBody = z
  .object({
    kind: z.enum(['collective', 'personal'], { errorMap: () => ({ message: 'must be "collective"' }) }),
    name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
    k: z
      .number()
      .int('must be an integer')
      .min(2, 'must be at least 2')
      .max(1000, 'must be at most 1000')
      .optional(),
  })
  .strict();
export type CreateServerBody = z.infer<typeof createServerBody>;

export const addMemberBody = z
  .object({
    address,
    role: z.enum(['admin', 'member'], { errorMap: () => ({ message: 'must be "admin" or "member"' }) }),
  })
  .strict();
export type AddMemberBody = z.infer<typeof addMemberBody>;

export const whitelistTypedDataBody = z
  .object({
    app: address,
    action: z.enum(['add', 'remove'], { errorMap: () => ({ message: 'must be "add" or "remove"' }) }),
  })
  .strict();
export type WhitelistTypedDataBody = z.infer<typeof whitelistTypedDataBody>;

export const signedWhitelistBody = z
  .object({
    typedData: z.record(z.unknown(), { required_error: 'the typed data you signed' }),
    signature: z.string({ required_error: 'the signature over typedData' }),
  })
  .strict();
export type SignedWhitelistBody = z.infer<typeof signedWhitelistBody>;

export interface MemberView {
  id: string;
  address: `0x${string}`;
  role: MemberEntity['role'];
  createdAt: string;
}

export function toMemberView(m: MemberEntity): MemberView {
  return { id: m.id, address: getAddress(m.address), role: m.role, createdAt: m.createdAt.toISOString() };
}

export const MEMBER_VIEW_SCHEMA = {
  type: 'object',
  required: ['id', 'address', 'role', 'createdAt'],
  properties: {
    id: { type: 'string', example: 'mem_0197a1b2c3d47e8f9a0b1c2d3e4f5a6b' },
    address: { type: 'string', description: 'EIP-55 address of the member' },
    role: { type: 'string', enum: ['admin', 'member'] },
    createdAt: { type: 'string', format: 'date-time' },
  },
};
