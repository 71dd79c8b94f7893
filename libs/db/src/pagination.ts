import { z } from 'zod';

/** `?limit=&cursor=` as every list takes them. Cursors are the last id seen (ids sort by time). */
export const paginationQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z
      .string()
      .regex(/^[a-z]+_[0-9a-f]{32}$/, 'must be a cursor returned by a previous page')
      .optional(),
  })
  .strict();

export type PaginationQuery = z.infer<typeof paginationQuery>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Call with `limit + 1` rows fetched in id order. */
export function toPage<R extends { id: string }, T>(rows: R[], limit: number, map: (row: R) => T): Page<T> {
  const hasMore = rows.length > limit;
  const kept = hasMore ? rows.slice(0, limit) : rows;
  return { items: kept.map(map), nextCursor: hasMore ? kept[kept.length - 1].id : null };
}
