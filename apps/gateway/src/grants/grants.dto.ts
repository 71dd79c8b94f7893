import type { FieldError } from '@hearth/errors';
import {
  GRANT_TYPES,
  MAX_FILES,
  MAX_OPERATIONS,
  REVOKE_GRANT_TYPES,
  type GrantRecord,
} from '@hearth/permissions';
import { z } from 'zod';

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte address');

/** On-chain grant ids are uint256 written as decimal strings. */
export const GRANT_ID = /^[1-9][0-9]{0,77}$/;

export const grantTypedDataBody = z
  .object({
    appAddress: address.refine((a) => BigInt(a) !== 0n, 'must not be the zero address'),
    operations: z
      .array(z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'))
      .min(1, 'at least one operation is required')
      .max(MAX_OPERATIONS, `at most ${MAX_OPERATIONS} operations`),
    fileIds: z
      .array(z.string().regex(/^fil_[0-9a-f]{32}$/, 'must be a file id (fil_…)'))
      .min(1, 'list at least one file, or set allFiles: true instead')
      .max(MAX_FILES, `at most ${MAX_FILES} files`)
      .optional(),
    allFiles: z.boolean().optional(),
    /** Collectives: the published datasets the grant covers (a collective's grants never name files). */
    datasetIds: z
      .array(z.string().regex(/^dst_[0-9a-f]{32}$/, 'must be a dataset id (dst_…)'))
      .min(1, 'list at least one dataset, or set allFiles: true instead')
      .max(MAX_FILES, `at most ${MAX_FILES} datasets`)
      .optional(),
    expiresAt: z.string().datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    const scopes = [body.allFiles === true, body.fileIds !== undefined, body.datasetIds !== undefined];
    const given = scopes.filter(Boolean).length;
    if (given !== 1) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [body.datasetIds && !body.fileIds ? 'datasetIds' : 'fileIds'],
        message:
          given === 0
            ? 'give fileIds, datasetIds (collectives) or allFiles: true'
            : 'give one of fileIds, datasetIds or allFiles: true',
      });
    }
  });
export type GrantTypedDataBody = z.infer<typeof grantTypedDataBody>;

/** `{typedData, signature}`: typedData is checked field by field afterwards (the relayer's parser). */
export const signedTypedDataBody = z
  .object({
    typedData: z.record(z.string(), z.unknown()),
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'must be a 65-byte 0x-prefixed hex signature'),
  })
  .strict();
export type SignedTypedDataBody = z.infer<typeof signedTypedDataBody>;

export const grantsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z
      .string()
      .regex(GRANT_ID, 'must be a cursor returned by a previous page (a grant id)')
      .optional(),
  })
  .strict();
export type GrantsQuery = z.infer<typeof grantsQuery>;

export const policyBody = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('grants') }).strict(),
  z.object({ kind: z.literal('contract'), address }).strict(),
]);
export type PolicyBody = z.infer<typeof policyBody>;

const DOMAIN_KEYS = ['name', 'version', 'chainId', 'verifyingContract'];
const ENVELOPE_KEYS = ['domain', 'types', 'primaryType', 'message'];

/**
 * Keys of the typed data that no one signs (the parser would drop them silently): refused, each named, so a
 * client never believes an extra field meant something.
 */
export function unknownTypedDataKeys(
  typedData: Record<string, unknown>,
  primaryType: 'Grant' | 'RevokeGrant',
): FieldError[] {
  const messageKeys = (primaryType === 'Grant' ? GRANT_TYPES.Grant : REVOKE_GRANT_TYPES.RevokeGrant).map(
    (f) => f.name as string,
  );
  const out: FieldError[] = [];
  const check = (value: unknown, allowed: string[], prefix: string) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key))
        out.push({ field: `${prefix}.${key}`, code: 'unknown_field', message: 'unknown field' });
    }
  };
  check(typedData, ENVELOPE_KEYS, 'typedData');
  check(typedData.domain, DOMAIN_KEYS, 'typedData.domain');
  check(typedData.message, messageKeys, 'typedData.message');
  return out;
}

/** A grant as the API shows it. */
export interface GrantView {
  grantId: string;
  grantee: `0x${string}`;
  operations: string[];
  fileIds: string[];
  datasetIds?: string[];
  allFiles: boolean;
  expiresAt: string | null;
  status: GrantRecord['status'];
  txHash: `0x${string}` | null;
}

export function toGrantView(g: GrantRecord): GrantView {
  const datasetIds = g.fileIds.filter((id) => id.startsWith('dst_'));
  return {
    grantId: g.grantId,
    grantee: g.grantee,
    operations: g.operations,
    fileIds: g.fileIds.filter((id) => !id.startsWith('dst_')),
    ...(datasetIds.length > 0 ? { datasetIds } : {}),
    allFiles: g.allFiles,
    expiresAt: g.expiresAt?.toISOString() ?? null,
    status: g.status,
    txHash: g.txHash,
  };
}

export const GRANT_VIEW_SCHEMA = {
  type: 'object',
  required: ['grantId', 'grantee', 'operations', 'fileIds', 'allFiles', 'expiresAt', 'status', 'txHash'],
  properties: {
    grantId: { type: 'string', description: 'uint256 as a decimal string', example: '1' },
    grantee: { type: 'string', description: "EIP-55 address of the app's wallet" },
    operations: { type: 'array', items: { type: 'string' } },
    fileIds: { type: 'array', items: { type: 'string' }, description: 'fil_… ids (empty with allFiles)' },
    datasetIds: {
      type: 'array',
      items: { type: 'string' },
      description: "a collective's grant: the dst_… datasets it covers (absent otherwise)",
    },
    allFiles: { type: 'boolean' },
    expiresAt: { type: 'string', format: 'date-time', nullable: true },
    status: { type: 'string', enum: ['active', 'revoked', 'expired'] },
    txHash: { type: 'string', nullable: true, description: 'transaction that added the grant' },
  },
};

/** EIP-712 typed data as JSON: uint fields are decimal strings, chainId a number. */
export const TYPED_DATA_SCHEMA = {
  type: 'object',
  required: ['domain', 'types', 'primaryType', 'message'],
  description:
    "viem's {domain, types, primaryType, message}; uint fields are decimal strings. Sign it as is with viem's signTypedData (or eth_signTypedData_v4).",
  properties: {
    domain: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        version: { type: 'string' },
        chainId: { type: 'integer' },
        verifyingContract: { type: 'string' },
      },
    },
    types: { type: 'object' },
    primaryType: { type: 'string', enum: ['Grant', 'RevokeGrant'] },
    message: { type: 'object' },
  },
};

export const TYPED_DATA_RESPONSE_SCHEMA = {
  type: 'object',
  required: ['typedData'],
  properties: { typedData: TYPED_DATA_SCHEMA },
};

export const RELAYED_SCHEMA = {
  type: 'object',
  required: ['grantId', 'txHash'],
  properties: { grantId: { type: 'string' }, txHash: { type: 'string' } },
};

export const SIGNED_TYPED_DATA_SCHEMA = {
  type: 'object',
  required: ['typedData', 'signature'],
  additionalProperties: false,
  properties: {
    typedData: TYPED_DATA_SCHEMA,
    signature: { type: 'string', description: '65-byte 0x-prefixed hex signature by the server owner' },
  },
};
