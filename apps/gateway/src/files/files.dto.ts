import { z } from 'zod';
import type { FileEntity } from '@hearth/db';

export const uploadQuery = z
  .object({
    name: z
      .string({ required_error: 'name the file: ?name=…' })
      .min(1)
      .max(255)
      // eslint-disable-next-line no-control-regex
      .regex(/^[^\x00-\x1f\x7f]+$/, 'must not contain control characters'),
  })
  .strict();

export interface FileView {
  id: string;
  name: string;
  size: number;
  contentType: string;
  encryption: 'server' | 'client';
  contributor: string;
  createdAt: string;
}

/** A file's name and Content-Type, opened from their sealed columns. */
export interface FileMeta {
  name: string;
  contentType: string;
}

export function fileView(f: FileEntity, contributor: string, meta: FileMeta): FileView {
  return {
    id: f.id,
    name: meta.name,
    size: Number(f.size),
    contentType: meta.contentType,
    encryption: f.encryption,
    contributor,
    createdAt: f.createdAt.toISOString(),
  };
}

export const FILE_VIEW_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string', example: 'fil_0192…' },
    name: { type: 'string' },
    size: { type: 'integer', description: 'plaintext bytes (server encryption) or envelope bytes (client)' },
    contentType: { type: 'string' },
    encryption: { type: 'string', enum: ['server', 'client'] },
    contributor: { type: 'string', description: 'EIP-55 address of who uploaded it' },
    createdAt: { type: 'string', format: 'date-time' },
  },
};
