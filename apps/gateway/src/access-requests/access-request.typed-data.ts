import type { FieldError } from '@hearth/errors';
import { MAX_FILES, MAX_OPERATIONS } from '@hearth/permissions';
import { getAddress, isAddress, type Address, type Hex } from 'viem';
import { z } from 'zod';
import { normalizeOrigin } from '../auth/api-key-policy';

/**
 * The app-signed messages of access requests. Their domain has no verifyingContract: the gateway, not a
 * contract, checks them; its name ("Hearth", not the grants' "Hearth DataPermissions") and the primary types
 * keep them from ever being taken for a grant, and chainId ties them to one deployment's chain.
 */
export const APP_DOMAIN_NAME = 'Hearth';
export const APP_DOMAIN_VERSION = '1';

export const ACCESS_REQUEST_TYPES = {
  AccessRequest: [
    { name: 'app', type: 'address' },
    { name: 'serverId', type: 'string' },
    { name: 'operations', type: 'string[]' },
    { name: 'fileIds', type: 'string[]' },
    { name: 'allFiles', type: 'bool' },
    { name: 'expiresAt', type: 'uint256' },
    { name: 'purpose', type: 'string' },
    { name: 'returnUrl', type: 'string' },
    { name: 'appName', type: 'string' },
    { name: 'origins', type: 'string[]' },
    { name: 'nonce', type: 'bytes32' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

export const CLAIM_ACCESS_KEY_TYPES = {
  ClaimAccessKey: [
    { name: 'requestId', type: 'string' },
    { name: 'nonce', type: 'bytes32' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

export const MAX_PURPOSE_CHARS = 500;
export const MAX_APP_NAME_CHARS = 100;
export const MAX_ORIGINS = 50;
export const MAX_RETURN_URL_CHARS = 2048;
export const DEFAULT_APP_NAME = 'access request';

export interface AppDomain {
  name: typeof APP_DOMAIN_NAME;
  version: typeof APP_DOMAIN_VERSION;
  chainId: number;
}

export function appDomain(chainId: number): AppDomain {
  return { name: APP_DOMAIN_NAME, version: APP_DOMAIN_VERSION, chainId };
}

/** The AccessRequest message as JSON: uints as decimal strings. */
export interface AccessRequestMessageJson {
  app: Address;
  serverId: string;
  operations: string[];
  fileIds: string[];
  allFiles: boolean;
  expiresAt: string;
  purpose: string;
  returnUrl: string;
  appName: string;
  origins: string[];
  nonce: Hex;
  deadline: string;
}

export interface AccessRequestTypedDataJson {
  domain: AppDomain;
  types: typeof ACCESS_REQUEST_TYPES;
  primaryType: 'AccessRequest';
  message: AccessRequestMessageJson;
}

export interface ClaimAccessKeyTypedDataJson {
  domain: AppDomain;
  types: typeof CLAIM_ACCESS_KEY_TYPES;
  primaryType: 'ClaimAccessKey';
  message: { requestId: string; nonce: Hex; deadline: string };
}

const uint = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, 'must be a uint256 as a decimal string');
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be 32 bytes as 0x-prefixed hex');

const domainSchema = z
  .object({
    name: z.literal(APP_DOMAIN_NAME, { errorMap: () => ({ message: `must be "${APP_DOMAIN_NAME}"` }) }),
    version: z.literal(APP_DOMAIN_VERSION, {
      errorMap: () => ({ message: `must be "${APP_DOMAIN_VERSION}"` }),
    }),
    chainId: z.number().int(),
  })
  .strict();

const accessRequestMessage = z
  .object({
    app: z.string().refine(isAddress, 'must be a 0x-prefixed 20-byte address'),
    serverId: z.string().regex(/^srv_[0-9a-f]{32}$/, 'must be a server id (srv_…)'),
    operations: z
      .array(z.string().min(1).max(128))
      .min(1, 'at least one operation is required')
      .max(MAX_OPERATIONS, `at most ${MAX_OPERATIONS} operations`),
    fileIds: z
      .array(z.string().regex(/^fil_[0-9a-f]{32}$/, 'must be a file id (fil_…)'))
      .max(MAX_FILES, `at most ${MAX_FILES} files`),
    allFiles: z.boolean(),
    expiresAt: uint,
    purpose: z
      .string()
      .refine((s) => s.trim().length > 0, 'must not be empty')
      .refine((s) => s.length <= MAX_PURPOSE_CHARS, `must be at most ${MAX_PURPOSE_CHARS} characters`),
    returnUrl: z.string().max(MAX_RETURN_URL_CHARS, `must be at most ${MAX_RETURN_URL_CHARS} characters`),
    appName: z
      .string()
      .refine((s) => s.trim().length > 0, 'must not be empty')
      .refine((s) => s.length <= MAX_APP_NAME_CHARS, `must be at most ${MAX_APP_NAME_CHARS} characters`),
    origins: z
      .array(
        z
          .string()
          .max(255)
          .refine((o) => normalizeOrigin(o) === o, 'must be an origin as scheme://host[:port], lowercase'),
      )
      .max(MAX_ORIGINS, `at most ${MAX_ORIGINS} origins`),
    nonce: bytes32,
    deadline: uint,
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.allFiles === m.fileIds.length > 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['fileIds'],
        message: m.allFiles ? 'must be empty with allFiles' : 'list at least one file, or set allFiles',
      });
    }
  });

const claimMessage = z
  .object({
    requestId: z.string().regex(/^arq_[0-9a-f]{32}$/, 'must be an access request id (arq_…)'),
    nonce: bytes32,
    deadline: uint,
  })
  .strict();

function envelope<M extends z.ZodTypeAny, P extends string>(primaryType: P, types: unknown, message: M) {
  return z
    .object({
      domain: domainSchema,
      types: z.unknown().refine((t) => sameTypes(t, types), {
        message: `must be exactly the ${primaryType} types the typed-data route gives`,
      }),
      primaryType: z.literal(primaryType, { errorMap: () => ({ message: `must be "${primaryType}"` }) }),
      message,
    })
    .strict();
}

export const accessRequestTypedData = envelope('AccessRequest', ACCESS_REQUEST_TYPES, accessRequestMessage);
export const claimAccessKeyTypedData = envelope('ClaimAccessKey', CLAIM_ACCESS_KEY_TYPES, claimMessage);

/** EIP712Domain may be listed (eth_signTypedData_v4 wallets want it) as long as it describes this domain. */
function sameTypes(given: unknown, expected: unknown): boolean {
  if (given === null || typeof given !== 'object' || Array.isArray(given)) return false;
  const { EIP712Domain, ...rest } = given as Record<string, unknown>;
  if (
    EIP712Domain !== undefined &&
    JSON.stringify(EIP712Domain) !==
      JSON.stringify([
        { name: 'name', type: 'string' },
        { name: 'version', type: 'string' },
        { name: 'chainId', type: 'uint256' },
      ])
  )
    return false;
  return JSON.stringify(rest) === JSON.stringify(expected);
}

/** viem's form of a JSON message: decimal-string uints as bigints. */
export function accessRequestForSigning(m: AccessRequestMessageJson) {
  return { ...m, app: getAddress(m.app), expiresAt: BigInt(m.expiresAt), deadline: BigInt(m.deadline) };
}

export function claimForSigning(m: ClaimAccessKeyTypedDataJson['message']) {
  return { ...m, deadline: BigInt(m.deadline) };
}

/** The domain's chain is this deployment's. */
export function chainIdErrors(chainId: number, expected: number): FieldError[] {
  return chainId === expected
    ? []
    : [{ field: 'typedData.domain.chainId', code: 'wrong_chain', message: `must be ${expected}` }];
}
