import { paginationQuery } from '@hearth/db';
import { z } from 'zod';

const fileId = z.string().regex(/^fil_[0-9a-f]{32}$/, 'must be a file id (fil_…)');

export const createOperationBody = z
  .object({
    operation: z.string().min(1).max(64),
    /** A personal server's files; a collective takes none (it runs over all its contributions or a dataset). */
    fileIds: z.array(fileId).max(100).optional(),
    datasetId: z
      .string()
      .regex(/^dst_[0-9a-f]{32}$/, 'must be a dataset id (dst_…)')
      .optional(),
    parameters: z.record(z.unknown()).default({}),
    grantId: z
      .string()
      .regex(/^[1-9][0-9]{0,77}$/, 'must be a grant id as a decimal string')
      .optional(),
  })
  .strict();

export type CreateOperationBody = z.infer<typeof createOperationBody>;

/** Deepest nesting of `parameters` (every catalog operation takes flat ones; a template's JSON Schema a few). */
export const MAX_PARAMETERS_DEPTH = 32;
/** Largest `parameters`, as JSON. */
export const MAX_PARAMETERS_BYTES = 64 * 1024;

export const idempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

export interface OperationView {
  id: string;
  serverId: string;
  status: string;
  operation: string;
  operationVersion: string;
  fileIds: string[];
  grantId: string | null;
  /** `GET /v1/operations/:id` only: the parameters as validated, opened for the app that submitted them. */
  parameters?: Record<string, unknown>;
  datasetId?: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  result?: unknown;
  resultExpiresAt?: string | null;
  receipt?: unknown;
  error?: { code: string; detail: string | null };
  timings?: Record<string, number> | null;
}

/** `GET /v1/operations`: a page of the key's operations, optionally in one status. */
export const listOperationsQuery = paginationQuery
  .extend({ status: z.enum(['queued', 'running', 'succeeded', 'failed', 'denied', 'cancelled']).optional() })
  .strict();

export type ListOperationsQuery = z.infer<typeof listOperationsQuery>;

/** The longest `Prefer: wait=N` honoured, in seconds. */
export const MAX_PREFER_WAIT_SECONDS = 60;

/**
 * `Prefer: wait=N` (RFC 7240): seconds the caller will wait for the operation to end, capped; 0 when absent or
 * unreadable (a preference the server does not understand is ignored, as the RFC says).
 */
export function preferredWaitSeconds(prefer: string | undefined): number {
  const match = prefer ? /(?:^|[,;\s])wait\s*=\s*"?(\d{1,6})"?(?:$|[,;\s])/i.exec(prefer) : null;
  return match ? Math.min(Number(match[1]), MAX_PREFER_WAIT_SECONDS) : 0;
}

export const OPERATION_VIEW_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    serverId: { type: 'string' },
    status: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed', 'denied', 'cancelled'] },
    operation: { type: 'string' },
    operationVersion: { type: 'string' },
    fileIds: { type: 'array', items: { type: 'string' } },
    grantId: { type: 'string', nullable: true },
    result: { description: 'The output (succeeded, until the result expires)' },
    receipt: {
      type: 'object',
      description:
        'EIP-712 receipt signed by the server: {typedData, signature, signer}; verify with viem verifyTypedData',
    },
    error: {
      type: 'object',
      properties: { code: { $ref: '#/components/schemas/OperationErrorCode' }, detail: { type: 'string' } },
    },
  },
};
