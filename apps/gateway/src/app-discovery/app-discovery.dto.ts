import { paginationQuery } from '@hearth/db';
import type { GrantRecord } from '@hearth/permissions';
import { z } from 'zod';

export const appGrantsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z
      .string()
      .regex(/^[1-9][0-9]{0,77}$/, 'must be a cursor returned by a previous page (a grant id)')
      .optional(),
  })
  .strict();
export type AppGrantsQuery = z.infer<typeof appGrantsQuery>;

export const appFilesQuery = paginationQuery;
export type AppFilesQuery = z.infer<typeof appFilesQuery>;

/** A grant as its grantee sees it. */
export interface AppGrantView {
  grantId: string;
  operations: string[];
  fileIds: string[];
  datasetIds?: string[];
  allFiles: boolean;
  expiresAt: string | null;
  status: GrantRecord['status'];
}

export function toAppGrantView(g: GrantRecord): AppGrantView {
  const datasetIds = g.fileIds.filter((id) => id.startsWith('dst_'));
  return {
    grantId: g.grantId,
    operations: g.operations,
    fileIds: g.fileIds.filter((id) => !id.startsWith('dst_')),
    ...(datasetIds.length > 0 ? { datasetIds } : {}),
    allFiles: g.allFiles,
    expiresAt: g.expiresAt?.toISOString() ?? null,
    status: g.status,
  };
}

/** A file as an app may see it: no name (sealed, and the owner's). */
export interface AppFileView {
  id: string;
  size: number;
  contentType: string;
  createdAt: string;
}

export const APP_GRANT_VIEW_SCHEMA = {
  type: 'object',
  required: ['grantId', 'operations', 'fileIds', 'allFiles', 'expiresAt', 'status'],
  properties: {
    grantId: { type: 'string', description: 'uint256 as a decimal string' },
    operations: { type: 'array', items: { type: 'string' } },
    fileIds: { type: 'array', items: { type: 'string' } },
    datasetIds: { type: 'array', items: { type: 'string' } },
    allFiles: { type: 'boolean' },
    expiresAt: { type: 'string', format: 'date-time', nullable: true },
    status: { type: 'string', enum: ['active', 'revoked', 'expired'] },
  },
};

export const APP_FILE_VIEW_SCHEMA = {
  type: 'object',
  required: ['id', 'size', 'contentType', 'createdAt'],
  properties: {
    id: { type: 'string' },
    size: { type: 'integer', description: 'bytes (the envelope size for client-encrypted files)' },
    contentType: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
};
