import type { ApiKeyEntity } from '@hearth/db';
import { getAddress } from 'viem';
import { z } from 'zod';
import { normalizeOrigin } from '../auth/api-key-policy';

const operationName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/,
    'must be an operation name (letters, digits, _.:@-; at most 64)',
  );

const origin = z
  .string()
  .max(255, 'must be at most 255 characters')
  .transform((value, ctx) => {
    const normalized = normalizeOrigin(value);
    if (!normalized) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: 'must be an origin: scheme://host[:port], or https://*.domain for its subdomains',
      });
      return z.NEVER;
    }
    return normalized;
  });

export const createApiKeyBody = z
  .object({
    name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
    appAddress: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte address'),
    operations: z.array(operationName).min(1).max(50, 'at most 50 operations').optional(),
    origins: z.array(origin).min(1).max(50, 'at most 50 origins').optional(),
    ratePerMinute: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict();
export type CreateApiKeyBody = z.infer<typeof createApiKeyBody>;

/** A key as lists show it: never the secret, only its display prefix. */
export interface ApiKeyView {
  id: string;
  serverId: string;
  name: string;
  appAddress: `0x${string}`;
  prefix: string;
  operations: string[] | null;
  origins: string[] | null;
  ratePerMinute: number;
  createdAt: string;
  revokedAt: string | null;
  /** After a rotation: until when the previous secret still works. */
  previousKeyExpiresAt: string | null;
}

export function toApiKeyView(k: ApiKeyEntity): ApiKeyView {
  return {
    id: k.id,
    serverId: k.serverId,
    name: k.name,
    appAddress: getAddress(k.appAddress),
    prefix: k.secretPrefix,
    operations: k.operations,
    origins: k.origins,
    ratePerMinute: k.ratePerMinute,
    createdAt: k.createdAt.toISOString(),
    revokedAt: k.revokedAt?.toISOString() ?? null,
    previousKeyExpiresAt:
      k.previousSecretExpiresAt && k.previousSecretExpiresAt.getTime() > Date.now()
        ? k.previousSecretExpiresAt.toISOString()
        : null,
  };
}

export const API_KEY_VIEW_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string', example: 'key_0197a1b2c3d47e8f9a0b1c2d3e4f5a6b' },
    serverId: { type: 'string' },
    name: { type: 'string' },
    appAddress: { type: 'string' },
    prefix: { type: 'string', description: 'First characters of the key, to tell keys apart' },
    operations: { type: 'array', items: { type: 'string' }, nullable: true },
    origins: { type: 'array', items: { type: 'string' }, nullable: true },
    ratePerMinute: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    revokedAt: { type: 'string', format: 'date-time', nullable: true },
    previousKeyExpiresAt: { type: 'string', format: 'date-time', nullable: true },
  },
};
