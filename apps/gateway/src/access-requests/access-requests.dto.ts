import type { AccessRequestEntity } from '@hearth/db';
import { paginationQuery } from '@hearth/db';
import { MAX_FILES, MAX_OPERATIONS } from '@hearth/permissions';
import { getAddress } from 'viem';
import { z } from 'zod';
import {
  MAX_APP_NAME_CHARS,
  MAX_ORIGINS,
  MAX_PURPOSE_CHARS,
  MAX_RETURN_URL_CHARS,
} from './access-request.typed-data';

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte address');
const fileId = z.string().regex(/^fil_[0-9a-f]{32}$/, 'must be a file id (fil_…)');
const operations = z
  .array(z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'))
  .min(1, 'at least one operation is required')
  .max(MAX_OPERATIONS, `at most ${MAX_OPERATIONS} operations`);
const isoDate = z.string().datetime({ offset: true, message: 'must be an ISO 8601 date-time' });

/** `POST /v1/access-requests/typed-data`. */
export const accessRequestTypedDataBody = z
  .object({
    server: z.union([z.string().regex(/^srv_[0-9a-f]{32}$/), address], {
      errorMap: () => ({ message: "must be a server id (srv_…) or the owner's wallet address" }),
    }),
    appAddress: address.refine((a) => BigInt(a) !== 0n, 'must not be the zero address'),
    operations,
    fileIds: z
      .array(fileId)
      .min(1, 'list at least one file, or set allFiles: true instead')
      .max(MAX_FILES, `at most ${MAX_FILES} files`)
      .optional(),
    allFiles: z.boolean().optional(),
    purpose: z
      .string()
      .refine((s) => s.trim().length > 0, 'must not be empty')
      .refine((s) => s.length <= MAX_PURPOSE_CHARS, `must be at most ${MAX_PURPOSE_CHARS} characters`),
    expiresAt: isoDate.optional(),
    returnUrl: z.string().min(1).max(MAX_RETURN_URL_CHARS).optional(),
    appName: z
      .string()
      .refine((s) => s.trim().length > 0, 'must not be empty')
      .refine((s) => s.length <= MAX_APP_NAME_CHARS, `must be at most ${MAX_APP_NAME_CHARS} characters`)
      .optional(),
    origins: z
      .array(z.string().max(255))
      .min(1)
      .max(MAX_ORIGINS, `at most ${MAX_ORIGINS} origins`)
      .optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if ((body.allFiles === true) === (body.fileIds !== undefined)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['fileIds'],
        message: 'give fileIds or allFiles: true (one of them)',
      });
    }
  });
export type AccessRequestTypedDataBody = z.infer<typeof accessRequestTypedDataBody>;

/** `{typedData, signature}` of an app: the typed data is parsed field by field afterwards. */
export const appSignedBody = z
  .object({
    typedData: z.record(z.string(), z.unknown()),
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'must be a 65-byte 0x-prefixed hex signature'),
  })
  .strict();
export type AppSignedBody = z.infer<typeof appSignedBody>;

export const REQUEST_STATUSES = ['pending', 'approved', 'denied', 'expired'] as const;
export type AccessRequestStatus = (typeof REQUEST_STATUSES)[number];

export const listAccessRequestsQuery = paginationQuery
  .extend({ status: z.enum(REQUEST_STATUSES).optional() })
  .strict();
export type ListAccessRequestsQuery = z.infer<typeof listAccessRequestsQuery>;

/** `POST …/approve`: optional narrowing of what was requested. */
export const approveBody = z
  .object({
    operations: operations.optional(),
    fileIds: z.array(fileId).min(1).max(MAX_FILES).optional(),
    expiresAt: isoDate.optional(),
  })
  .strict();
export type ApproveBody = z.infer<typeof approveBody>;

/** A request as the app (by its id) and the owner see it: ids and the app's own words, never a secret. */
export interface AccessRequestView {
  requestId: string;
  status: AccessRequestStatus;
  serverId: string;
  serverAddress: `0x${string}`;
  appAddress: `0x${string}`;
  appName: string;
  operations: string[];
  fileIds: string[];
  allFiles: boolean;
  grantExpiresAt: string | null;
  purpose: string;
  returnUrl: string | null;
  origins: string[] | null;
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
  grantId: string | null;
  keyId: string | null;
  keyClaimed: boolean;
}

export function statusOf(r: AccessRequestEntity, now = Date.now()): AccessRequestStatus {
  return r.status === 'pending' && r.expiresAt.getTime() <= now ? 'expired' : r.status;
}

export function toAccessRequestView(r: AccessRequestEntity, serverAddress: string): AccessRequestView {
  return {
    requestId: r.id,
    status: statusOf(r),
    serverId: r.serverId,
    serverAddress: getAddress(serverAddress),
    appAddress: getAddress(r.appAddress),
    appName: r.appName,
    operations: r.operations,
    fileIds: r.fileIds,
    allFiles: r.allFiles,
    grantExpiresAt: r.grantExpiresAt?.toISOString() ?? null,
    purpose: r.purpose,
    returnUrl: r.returnUrl,
    origins: r.origins,
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    decidedAt: r.decidedAt?.toISOString() ?? null,
    grantId: r.grantId,
    keyId: r.keyId,
    keyClaimed: r.keyClaimedAt !== null,
  };
}

export const ACCESS_REQUEST_VIEW_SCHEMA = {
  type: 'object',
  required: [
    'requestId',
    'status',
    'serverId',
    'serverAddress',
    'appAddress',
    'appName',
    'operations',
    'fileIds',
    'allFiles',
    'grantExpiresAt',
    'purpose',
    'returnUrl',
    'origins',
    'createdAt',
    'expiresAt',
    'decidedAt',
    'grantId',
    'keyId',
    'keyClaimed',
  ],
  properties: {
    requestId: { type: 'string', example: 'arq_0197a1b2c3d47e8f9a0b1c2d3e4f5a6b' },
    status: { type: 'string', enum: [...REQUEST_STATUSES] },
    serverId: { type: 'string' },
    serverAddress: { type: 'string', description: "EIP-55 address of the server's identity key" },
    appAddress: { type: 'string', description: "EIP-55 address of the app's wallet (the signer)" },
    appName: { type: 'string' },
    operations: { type: 'array', items: { type: 'string' } },
    fileIds: { type: 'array', items: { type: 'string' } },
    allFiles: { type: 'boolean' },
    grantExpiresAt: { type: 'string', format: 'date-time', nullable: true },
    purpose: { type: 'string' },
    returnUrl: { type: 'string', nullable: true },
    origins: { type: 'array', items: { type: 'string' }, nullable: true },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time', description: 'when a pending request lapses' },
    decidedAt: { type: 'string', format: 'date-time', nullable: true },
    grantId: { type: 'string', nullable: true },
    keyId: { type: 'string', nullable: true },
    keyClaimed: { type: 'boolean' },
  },
};

export const APP_TYPED_DATA_RESPONSE_SCHEMA = {
  type: 'object',
  required: ['typedData'],
  properties: {
    typedData: {
      type: 'object',
      required: ['domain', 'types', 'primaryType', 'message'],
      description:
        'EIP-712 {domain: {name: "Hearth", version: "1", chainId}, types, primaryType, message}; uints as decimal strings. Sign as is.',
      properties: {
        domain: { type: 'object' },
        types: { type: 'object' },
        primaryType: { type: 'string' },
        message: { type: 'object' },
      },
    },
  },
};

export const APP_SIGNED_BODY_SCHEMA = {
  type: 'object',
  required: ['typedData', 'signature'],
  additionalProperties: false,
  properties: {
    typedData: { type: 'object' },
    signature: { type: 'string', description: "65-byte 0x-prefixed hex signature by the app's wallet" },
  },
};
