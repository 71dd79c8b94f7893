import type { DatasetEntity, MemberEntity } from '@hearth/db';
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
  /** How much they contributed (counts and bytes only: no member sees another's file names or content). */
  contributions: { files: number; bytes: string };
  createdAt: string;
}

export function toMemberView(
  m: MemberEntity,
  contributions: { files: number; bytes: string } = { files: 0, bytes: '0' },
): MemberView {
  return {
    id: m.id,
    address: getAddress(m.address),
    role: m.role,
    contributions,
    createdAt: m.createdAt.toISOString(),
  };
}

export const MEMBER_VIEW_SCHEMA = {
  type: 'object',
  required: ['id', 'address', 'role', 'contributions', 'createdAt'],
  properties: {
    id: { type: 'string', example: 'mem_0197a1b2c3d47e8f9a0b1c2d3e4f5a6b' },
    address: { type: 'string', description: 'EIP-55 address of the member' },
    role: { type: 'string', enum: ['admin', 'member'] },
    contributions: {
      type: 'object',
      description: 'How many files and bytes the member contributed (never their names or content)',
      properties: { files: { type: 'integer' }, bytes: { type: 'string', description: 'decimal' } },
    },
    createdAt: { type: 'string', format: 'date-time' },
  },
};

export interface DatasetView {
  id: string;
  version: number;
  /** How many contributions and distinct contributors it froze (never which). */
  files: number;
  contributors: number;
  createdAt: string;
}

export function toDatasetView(d: DatasetEntity): DatasetView {
  return {
    id: d.id,
    version: d.version,
    files: d.fileIds.length,
    contributors: d.contributors,
    createdAt: d.createdAt.toISOString(),
  };
}

export const DATASET_VIEW_SCHEMA = {
  type: 'object',
  required: ['id', 'version', 'files', 'contributors', 'createdAt'],
  properties: {
    id: { type: 'string', example: 'dst_0197a1b2c3d47e8f9a0b1c2d3e4f5a6b' },
    version: { type: 'integer', description: '1, 2, 3… per collective' },
    files: { type: 'integer' },
    contributors: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
  },
};

const epsilon = z.number().positive('must be positive').max(100, 'must be at most 100');

/** `PUT /v1/servers/:id/privacy`: ε per aggregate and total ε per app, or both null to turn noise off. */
export const privacyBody = z
  .object({
    epsilon: epsilon.nullable(),
    budget: epsilon.max(10_000, 'must be at most 10000').nullable(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if ((b.epsilon === null) !== (b.budget === null)) {
      ctx.addIssue({
        code: 'custom',
        path: ['budget'],
        message: 'set both epsilon and budget, or both to null',
      });
    } else if (b.epsilon !== null && b.budget !== null && b.epsilon > b.budget) {
      ctx.addIssue({ code: 'custom', path: ['budget'], message: 'must be at least epsilon' });
    }
  });
export type PrivacyBody = z.infer<typeof privacyBody>;

export interface PrivacyView {
  epsilon: number | null;
  budget: number | null;
  apps: Array<{ app: `0x${string}`; spent: number; remaining: number | null }>;
}
