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
