import type { Address, PublicClient } from 'viem';
import { getAddress } from 'viem';
import { createHearthPublicClient } from './client';
import * as Grantees from './generated/DataPortabilityGrantees';
import * as Permissions from './generated/DataPortabilityPermissions';
import * as Servers from './generated/DataPortabilityServers';

/** Where the Data Portability registries live (the spec's §4.3 contracts). */
export interface DataPortabilityAddresses {
  permissions: Address;
  grantees: Address;
  servers: Address;
  dataRegistry: Address;
}

export interface DataPortabilityRegistryOptions {
  rpcUrl: string;
  chainId: number;
  addresses: DataPortabilityAddresses;
  timeoutMs: number;
  /** How long an answer is reused (0: none is). */
  cacheMs: number;
  /** For tests: the clock. */
  now?: () => number;
}

/** The grant document a permission's `grant` string holds (spec §5.3's Grant message, as JSON). */
export interface GrantDocument {
  user: Address;
  builder: Address;
  scopes: string[];
  /** Unix seconds; 0 = no expiry. */
  expiresAt: number;
  nonce: number;
}

/** One on-chain permission with what a read needs of its grantee, at the block it was read. */
export interface RegistryGrant {
  id: bigint;
  grantor: Address;
  granteeId: bigint;
  /** The grantee's registered address (null when the grantee id names none). */
  granteeAddress: Address | null;
  /** The permission's `grant` string as stored. */
  grant: string;
  /** The grant document, when the string is one (null otherwise). */
  document: GrantDocument | null;
  startBlock: bigint;
  endBlock: bigint;
  fileIds: bigint[];
  /** The head block the answer was read at. */
  blockNumber: bigint;
}

/** The registries could not be read (transport failure, timeout, a node that does not answer). */
export class RegistryUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the Data Portability registries are unreachable', { cause });
    this.name = 'RegistryUnavailableError';
  }
}

const MAX_CACHED = 10_000;

/**
 * Reads grants, grantees and servers from the Data Portability registries with viem. Each answer is reused for
 * `cacheMs` (grants by id, builders by address): public chain state, nothing of a tenant's data. Any failure to
 * read is a RegistryUnavailableError: callers deny.
 */
export class DataPortabilityRegistry {
  private readonly client: PublicClient;
  private readonly now: () => number;
  private readonly grants = new Map<string, { at: number; value: Promise<RegistryGrant | null> }>();
  /** Grants already read, for a synchronous look before anything is read (see peekGrant). */
  private readonly settled = new Map<string, { at: number; grant: RegistryGrant | null }>();
  private readonly builders = new Map<string, { at: number; value: Promise<bigint> }>();

  constructor(private readonly opts: DataPortabilityRegistryOptions) {
    this.client = createHearthPublicClient({
      rpcUrl: opts.rpcUrl,
      chainId: opts.chainId,
      timeoutMs: opts.timeoutMs,
    });
    this.now = opts.now ?? Date.now;
  }

  get addresses(): DataPortabilityAddresses {
    return this.opts.addresses;
  }

  /** The permission `grantId` names, or null when there is none by that id. */
  grant(grantId: bigint): Promise<RegistryGrant | null> {
    const key = grantId.toString(10);
    return this.cached(this.grants, key, async () => {
      const grant = await this.readGrant(grantId);
      if (this.opts.cacheMs > 0) {
        if (this.settled.size >= MAX_CACHED) this.settled.clear();
        this.settled.set(key, { at: this.now(), grant });
      }
      return grant;
    });
  }

  /** The grant as last read, while still fresh; undefined when it is not in the cache (nothing is read). */
  peekGrant(grantId: bigint): RegistryGrant | null | undefined {
    const hit = this.settled.get(grantId.toString(10));
    return hit && this.now() - hit.at < this.opts.cacheMs ? hit.grant : undefined;
  }

  /** The builder's grantee id; 0n when the address is not a registered builder. */
  granteeId(address: Address): Promise<bigint> {
    return this.cached(this.builders, address.toLowerCase(), () =>
      this.read(() =>
        this.client.readContract({
          address: this.opts.addresses.grantees,
          abi: Grantees.abi,
          functionName: 'granteeAddressToId',
          args: [address],
        }),
      ),
    );
  }

  /** Every permission `user` granted, newest first (never cached: the owner's own listing). */
  async permissionsOf(user: Address): Promise<RegistryGrant[]> {
    const ids = await this.read(() =>
      this.client.readContract({
        address: this.opts.addresses.permissions,
        abi: Permissions.abi,
        functionName: 'userPermissionIdsValues',
        args: [user],
      }),
    );
    const grants = await Promise.all([...ids].reverse().map((id) => this.readGrant(id)));
    return grants.filter((g): g is RegistryGrant => g !== null);
  }

  /** The server registered at `serverAddress` (id 0n when none is). */
  async serverByAddress(serverAddress: Address): Promise<{ id: bigint; owner: Address; url: string }> {
    const s = await this.read(() =>
      this.client.readContract({
        address: this.opts.addresses.servers,
        abi: Servers.abi,
        functionName: 'serverByAddress',
        args: [serverAddress],
      }),
    );
    return { id: s.id, owner: s.owner, url: s.url };
  }

  /** The head block: what /health reports and what tells a reachable chain. */
  blockNumber(): Promise<bigint> {
    return this.read(() => this.client.getBlockNumber({ cacheTime: 0 }));
  }

  private async readGrant(grantId: bigint): Promise<RegistryGrant | null> {
    const [p, blockNumber] = await Promise.all([
      this.read(() =>
        this.client.readContract({
          address: this.opts.addresses.permissions,
          abi: Permissions.abi,
          functionName: 'permissions',
          args: [grantId],
        }),
      ),
      this.blockNumber(),
    ]);
    if (p.id === 0n) return null;
    const grantee = await this.read(() =>
      this.client.readContract({
        address: this.opts.addresses.grantees,
        abi: Grantees.abi,
        functionName: 'grantees',
        args: [p.granteeId],
      }),
    );
    const zero = /^0x0{40}$/i.test(grantee.granteeAddress);
    return {
      id: p.id,
      grantor: getAddress(p.grantor),
      granteeId: p.granteeId,
      granteeAddress: zero ? null : getAddress(grantee.granteeAddress),
      grant: p.grant,
      document: parseGrantDocument(p.grant),
      startBlock: p.startBlock,
      endBlock: p.endBlock,
      fileIds: [...p.fileIds],
      blockNumber,
    };
  }

  private async read<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new RegistryUnavailableError(err);
    }
  }

  /** Concurrent misses share one read; a failed read is not kept. */
  private cached<T>(
    map: Map<string, { at: number; value: Promise<T> }>,
    key: string,
    load: () => Promise<T>,
  ): Promise<T> {
    const now = this.now();
    const hit = map.get(key);
    if (hit && now - hit.at < this.opts.cacheMs) return hit.value;
    const value = load();
    if (this.opts.cacheMs > 0) {
      if (map.size >= MAX_CACHED) map.clear();
      map.set(key, { at: now, value });
      value.catch(() => map.delete(key));
    }
    return value;
  }
}

/** A grant id as the Web3Signed payload carries it: decimal or 0x hex, a positive uint256; else null. */
export function parseGrantId(text: string): bigint | null {
  if (!/^(0x[0-9a-fA-F]{1,64}|[0-9]{1,78})$/.test(text)) return null;
  const id = BigInt(text);
  return id > 0n && id < 2n ** 256n ? id : null;
}

/** The grant string as a §5.3 Grant document, or null when it is not one. */
export function parseGrantDocument(grant: string): GrantDocument | null {
  let doc: unknown;
  try {
    doc = JSON.parse(grant);
  } catch {
    return null;
  }
  if (!doc || typeof doc !== 'object') return null;
  const d = doc as Record<string, unknown>;
  const isAddress = (v: unknown): v is string => typeof v === 'string' && /^0x[0-9a-fA-F]{40}$/.test(v);
  if (!isAddress(d.user) || !isAddress(d.builder)) return null;
  if (!Array.isArray(d.scopes) || !d.scopes.every((s) => typeof s === 'string')) return null;
  const expiresAt = Number(d.expiresAt ?? 0);
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) return null;
  return {
    user: getAddress(d.user),
    builder: getAddress(d.builder),
    scopes: d.scopes,
    expiresAt,
    nonce: Number(d.nonce ?? 0),
  };
}

/**
 * Whether `scope` is within `granted`: the scope itself, or below a granted prefix (`instagram` covers
 * `instagram.profile`); `*` covers everything.
 */
export function scopeGranted(scope: string, granted: readonly string[]): boolean {
  return granted.some((g) => g === '*' || g === scope || scope.startsWith(`${g}.`));
}
