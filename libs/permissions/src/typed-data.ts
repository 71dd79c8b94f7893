/**
 * EIP-712 typed data for DataPermissions and Whitelist: type definitions (must match the Solidity
 * type hashes), JSON-safe serialisation (bigint <-> decimal string) and strict parsing of what
 * clients send back.
 */
import { getAddress, isAddress, isHex, type Address, type Hex } from 'viem';

export const DATA_PERMISSIONS_DOMAIN_NAME = 'Hearth DataPermissions';
export const WHITELIST_DOMAIN_NAME = 'Hearth Whitelist';
export const DOMAIN_VERSION = '1';

export const GRANT_TYPES = {
  Grant: [
    { name: 'grantor', type: 'address' },
    { name: 'grantee', type: 'address' },
    { name: 'serverId', type: 'string' },
    { name: 'operations', type: 'string[]' },
    { name: 'fileIds', type: 'uint256[]' },
    { name: 'allFiles', type: 'bool' },
    { name: 'expiresAt', type: 'uint64' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

export const REVOKE_GRANT_TYPES = {
  RevokeGrant: [
    { name: 'grantor', type: 'address' },
    { name: 'grantId', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

export const WHITELIST_CHANGE_TYPES = {
  WhitelistChange: [
    { name: 'owner', type: 'address' },
    { name: 'account', type: 'address' },
    { name: 'add', type: 'bool' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

export interface Eip712Domain {
  name: string;
  version: string;
  chainId: number;
  verifyingContract: Address;
}

export interface GrantMessage {
  grantor: Address;
  grantee: Address;
  serverId: string;
  operations: string[];
  fileIds: bigint[];
  allFiles: boolean;
  expiresAt: bigint;
  nonce: bigint;
  deadline: bigint;
}

export interface RevokeGrantMessage {
  grantor: Address;
  grantId: bigint;
  nonce: bigint;
  deadline: bigint;
}

export interface WhitelistChangeMessage {
  owner: Address;
  account: Address;
  add: boolean;
  nonce: bigint;
  deadline: bigint;
}

export interface GrantTypedData {
  domain: Eip712Domain;
  types: typeof GRANT_TYPES;
  primaryType: 'Grant';
  message: GrantMessage;
}

export interface RevokeGrantTypedData {
  domain: Eip712Domain;
  types: typeof REVOKE_GRANT_TYPES;
  primaryType: 'RevokeGrant';
  message: RevokeGrantMessage;
}

export interface WhitelistChangeTypedData {
  domain: Eip712Domain;
  types: typeof WHITELIST_CHANGE_TYPES;
  primaryType: 'WhitelistChange';
  message: WhitelistChangeMessage;
}

export type HearthTypedData = GrantTypedData | RevokeGrantTypedData | WhitelistChangeTypedData;

/** Same shape as `FieldError` of @hearth/errors, so the gateway can pass these straight through. */
export interface TypedDataFieldError {
  field: string;
  code:
    | 'required'
    | 'invalid_type'
    | 'invalid_address'
    | 'invalid_integer'
    | 'out_of_range'
    | 'invalid_value'
    | 'wrong_domain'
    | 'wrong_chain'
    | 'wrong_contract'
    | 'wrong_types'
    | 'wrong_primary_type'
    | 'expired'
    | 'stale_nonce';
  message: string;
}

export type ValidationResult<T> = { ok: true; typedData: T } | { ok: false; errors: TypedDataFieldError[] };

/** `T` with every bigint as a decimal string: what travels in JSON. */
export type Jsonified<T> = T extends bigint
  ? string
  : T extends readonly (infer U)[]
    ? Jsonified<U>[]
    : T extends object
      ? { [K in keyof T]: Jsonified<T[K]> }
      : T;

/** Deep copy with every bigint turned into a decimal string (JSON-safe). */
export function toJsonSafe<T>(value: T): Jsonified<T> {
  const convert = (v: unknown): unknown => {
    if (typeof v === 'bigint') return v.toString(10);
    if (Array.isArray(v)) return v.map(convert);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, convert(x)]));
    }
    return v;
  };
  return convert(value) as Jsonified<T>;
}

/** What the parsers check the domain against. */
export interface ExpectedDomain {
  name: string;
  chainId: number;
  /** When omitted any valid address is accepted (e.g. one of many Whitelist contracts). */
  verifyingContract?: Address;
}

/* ---------------- parsing ---------------- */

class Collector {
  readonly errors: TypedDataFieldError[] = [];
  add(field: string, code: TypedDataFieldError['code'], message: string): undefined {
    this.errors.push({ field, code, message });
    return undefined;
  }
}

/** Narrows a parsed value once the collector reported no errors (so it cannot be undefined). */
function req<T>(v: T | undefined): T {
  if (v === undefined) throw new Error('internal: parsed value missing without a field error');
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function parseAddress(c: Collector, field: string, v: unknown): Address | undefined {
  if (v === undefined || v === null) return c.add(field, 'required', `${field} is required`);
  if (typeof v !== 'string' || !isAddress(v, { strict: false })) {
    return c.add(field, 'invalid_address', `${field} must be a 0x-prefixed 20-byte address`);
  }
  return getAddress(v);
}

function parseUint(c: Collector, field: string, v: unknown, bits: number): bigint | undefined {
  if (v === undefined || v === null) return c.add(field, 'required', `${field} is required`);
  let n: bigint;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
  else if (typeof v === 'string' && /^(0|[1-9][0-9]{0,77})$/.test(v)) n = BigInt(v);
  else return c.add(field, 'invalid_integer', `${field} must be a non-negative integer as a decimal string`);
  if (n < 0n || n >= 1n << BigInt(bits)) {
    return c.add(field, 'out_of_range', `${field} does not fit in uint${bits}`);
  }
  return n;
}

function parseBool(c: Collector, field: string, v: unknown): boolean | undefined {
  if (v === undefined || v === null) return c.add(field, 'required', `${field} is required`);
  if (typeof v !== 'boolean') return c.add(field, 'invalid_type', `${field} must be a boolean`);
  return v;
}

function parseString(c: Collector, field: string, v: unknown, maxLength = 256): string | undefined {
  if (v === undefined || v === null) return c.add(field, 'required', `${field} is required`);
  if (typeof v !== 'string') return c.add(field, 'invalid_type', `${field} must be a string`);
  if (v.length === 0 || v.length > maxLength) {
    return c.add(field, 'invalid_value', `${field} must be 1..${maxLength} characters`);
  }
  return v;
}

function parseArray<T>(
  c: Collector,
  field: string,
  v: unknown,
  maxItems: number,
  item: (field: string, x: unknown) => T | undefined,
): T[] | undefined {
  if (v === undefined || v === null) return c.add(field, 'required', `${field} is required`);
  if (!Array.isArray(v)) return c.add(field, 'invalid_type', `${field} must be an array`);
  if (v.length > maxItems) return c.add(field, 'invalid_value', `${field} has more than ${maxItems} items`);
  const before = c.errors.length;
  const out = v.map((x, i) => item(`${field}.${i}`, x));
  return c.errors.length === before ? (out as T[]) : undefined;
}

function parseDomain(c: Collector, v: unknown, expected: ExpectedDomain): Eip712Domain | undefined {
  if (!isRecord(v)) return c.add('domain', 'required', 'domain must be an object');
  const before = c.errors.length;
  if (v.name !== expected.name)
    c.add('domain.name', 'wrong_domain', `domain.name must be "${expected.name}"`);
  if (v.version !== DOMAIN_VERSION) {
    c.add('domain.version', 'wrong_domain', `domain.version must be "${DOMAIN_VERSION}"`);
  }
  const chainId = parseUint(c, 'domain.chainId', v.chainId, 64);
  if (chainId !== undefined && chainId !== BigInt(expected.chainId)) {
    c.add('domain.chainId', 'wrong_chain', `domain.chainId must be ${expected.chainId}`);
  }
  const verifyingContract = parseAddress(c, 'domain.verifyingContract', v.verifyingContract);
  if (
    verifyingContract !== undefined &&
    expected.verifyingContract !== undefined &&
    verifyingContract !== getAddress(expected.verifyingContract)
  ) {
    c.add(
      'domain.verifyingContract',
      'wrong_contract',
      `domain.verifyingContract must be ${expected.verifyingContract}`,
    );
  }
  if (c.errors.length !== before || verifyingContract === undefined) return undefined;
  return { name: expected.name, version: DOMAIN_VERSION, chainId: expected.chainId, verifyingContract };
}

/** Checks `types` equals the expected definition (an EIP712Domain entry, as wallets send it, is allowed). */
function checkTypes(
  c: Collector,
  v: unknown,
  expected: Record<string, readonly { name: string; type: string }[]>,
) {
  if (!isRecord(v)) return c.add('types', 'required', 'types must be an object');
  const { EIP712Domain: domainType, ...rest } = v;
  const same = JSON.stringify(rest) === JSON.stringify(expected);
  const domainOk =
    domainType === undefined ||
    JSON.stringify(domainType) ===
      JSON.stringify([
        { name: 'name', type: 'string' },
        { name: 'version', type: 'string' },
        { name: 'chainId', type: 'uint256' },
        { name: 'verifyingContract', type: 'address' },
      ]);
  if (!same || !domainOk) c.add('types', 'wrong_types', 'types do not match the contract type definitions');
  return undefined;
}

function parseEnvelope(
  c: Collector,
  input: unknown,
  expected: ExpectedDomain,
  primaryType: string,
  types: Record<string, readonly { name: string; type: string }[]>,
): { domain: Eip712Domain | undefined; message: Record<string, unknown> | undefined } {
  if (!isRecord(input)) {
    c.add('typedData', 'required', 'typedData must be an object');
    return { domain: undefined, message: undefined };
  }
  const domain = parseDomain(c, input.domain, expected);
  checkTypes(c, input.types, types);
  if (input.primaryType !== primaryType) {
    c.add('primaryType', 'wrong_primary_type', `primaryType must be "${primaryType}"`);
  }
  if (!isRecord(input.message)) {
    c.add('message', 'required', 'message must be an object');
    return { domain, message: undefined };
  }
  return { domain, message: input.message };
}

export const MAX_OPERATIONS = 32;
export const MAX_FILES = 256;

/** Structural parse of a Grant typed data (JSON or native); chain-dependent checks are the relayer's. */
export function parseGrantTypedData(
  input: unknown,
  expected: ExpectedDomain,
): ValidationResult<GrantTypedData> {
  const c = new Collector();
  const { domain, message: m } = parseEnvelope(c, input, expected, 'Grant', GRANT_TYPES);
  if (!m) return { ok: false, errors: c.errors };
  const grantor = parseAddress(c, 'message.grantor', m.grantor);
  const grantee = parseAddress(c, 'message.grantee', m.grantee);
  if (grantee !== undefined && BigInt(grantee) === 0n) {
    c.add('message.grantee', 'invalid_address', 'message.grantee must not be the zero address');
  }
  const serverId = parseString(c, 'message.serverId', m.serverId, 128);
  const operations = parseArray(c, 'message.operations', m.operations, MAX_OPERATIONS, (f, x) =>
    parseString(c, f, x, 128),
  );
  if (operations?.length === 0)
    c.add('message.operations', 'invalid_value', 'at least one operation is required');
  const fileIds = parseArray(c, 'message.fileIds', m.fileIds, MAX_FILES, (f, x) => parseUint(c, f, x, 256));
  const allFiles = parseBool(c, 'message.allFiles', m.allFiles);
  if (allFiles === false && fileIds?.length === 0) {
    c.add('message.fileIds', 'invalid_value', 'list at least one file or set allFiles');
  }
  const expiresAt = parseUint(c, 'message.expiresAt', m.expiresAt, 64);
  const nonce = parseUint(c, 'message.nonce', m.nonce, 256);
  const deadline = parseUint(c, 'message.deadline', m.deadline, 256);
  if (c.errors.length > 0) return { ok: false, errors: c.errors };
  return {
    ok: true,
    typedData: {
      domain: req(domain),
      types: GRANT_TYPES,
      primaryType: 'Grant',
      message: {
        grantor: req(grantor),
        grantee: req(grantee),
        serverId: req(serverId),
        operations: req(operations),
        fileIds: req(fileIds),
        allFiles: req(allFiles),
        expiresAt: req(expiresAt),
        nonce: req(nonce),
        deadline: req(deadline),
      },
    },
  };
}

export function parseRevokeGrantTypedData(
  input: unknown,
  expected: ExpectedDomain,
): ValidationResult<RevokeGrantTypedData> {
  const c = new Collector();
  const { domain, message: m } = parseEnvelope(c, input, expected, 'RevokeGrant', REVOKE_GRANT_TYPES);
  if (!m) return { ok: false, errors: c.errors };
  const grantor = parseAddress(c, 'message.grantor', m.grantor);
  const grantId = parseUint(c, 'message.grantId', m.grantId, 256);
  const nonce = parseUint(c, 'message.nonce', m.nonce, 256);
  const deadline = parseUint(c, 'message.deadline', m.deadline, 256);
  if (c.errors.length > 0) return { ok: false, errors: c.errors };
  return {
    ok: true,
    typedData: {
      domain: req(domain),
      types: REVOKE_GRANT_TYPES,
      primaryType: 'RevokeGrant',
      message: { grantor: req(grantor), grantId: req(grantId), nonce: req(nonce), deadline: req(deadline) },
    },
  };
}

export function parseWhitelistChangeTypedData(
  input: unknown,
  expected: ExpectedDomain,
): ValidationResult<WhitelistChangeTypedData> {
  const c = new Collector();
  const { domain, message: m } = parseEnvelope(c, input, expected, 'WhitelistChange', WHITELIST_CHANGE_TYPES);
  if (!m) return { ok: false, errors: c.errors };
  const owner = parseAddress(c, 'message.owner', m.owner);
  const account = parseAddress(c, 'message.account', m.account);
  const add = parseBool(c, 'message.add', m.add);
  const nonce = parseUint(c, 'message.nonce', m.nonce, 256);
  const deadline = parseUint(c, 'message.deadline', m.deadline, 256);
  if (c.errors.length > 0) return { ok: false, errors: c.errors };
  return {
    ok: true,
    typedData: {
      domain: req(domain),
      types: WHITELIST_CHANGE_TYPES,
      primaryType: 'WhitelistChange',
      message: {
        owner: req(owner),
        account: req(account),
        add: req(add),
        nonce: req(nonce),
        deadline: req(deadline),
      },
    },
  };
}

/** A 65-byte hex signature (r, s, v), or undefined. */
export function parseSignature(v: unknown): Hex | undefined {
  return typeof v === 'string' && isHex(v, { strict: true }) && v.length === 132 ? v : undefined;
}
