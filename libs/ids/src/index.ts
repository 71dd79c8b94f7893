import { v7 as uuidv7 } from 'uuid';

/** Every id prefix the API hands out; ids are `<prefix>_<uuidv7 hex>` so they sort by creation time. */
export const ID_PREFIXES = [
  'acc',
  'ses',
  'srv',
  'fil',
  'key',
  'op',
  'mem',
  'log',
  'dst',
  'arq',
  'evt',
  'whk',
  'dlv',
] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${uuidv7().replace(/-/g, '')}`;
}

export function isId(prefix: IdPrefix, value: unknown): value is string {
  return typeof value === 'string' && new RegExp(`^${prefix}_[0-9a-f]{32}$`).test(value);
}

/**
 * The least id of `prefix` created at or after `at`: every id made before that millisecond sorts below it (a
 * uuidv7 starts with its creation time in ms, as 12 hex digits), so a time range is a range of the primary key.
 */
export function firstIdAt(prefix: IdPrefix, at: Date): string {
  const ms = Math.max(0, Math.floor(at.getTime()));
  return `${prefix}_${ms.toString(16).padStart(12, '0')}${'0'.repeat(20)}`;
}
