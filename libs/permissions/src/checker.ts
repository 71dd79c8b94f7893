/**
 * PermissionChecker: the worker's execution-time check. Every read of one decision is pinned to one
 * block, so the decision names the block it was made at; a cached "allowed" is reused only within
 * `cacheTtlBlocks` (default 1: the same block, whose state cannot change) and, with a longer TTL, is
 * dropped on GrantRevoked by a watcher. Anything unreachable, slow or unexpected is a denial
 * (`chain_unavailable`), never an allowance.
 */
import type { OperationErrorCodeSubset } from '@hearth/errors';
import { getAddress, isAddress, type Address, type PublicClient } from 'viem';
import { createHearthPublicClient } from './client';
import { isTransportError, revertOf } from './errors';
import { isDatasetId, isFileId, scopeIdToUint } from './file-ids';
import { abi as dataPermissionsAbi } from './generated/DataPermissions';
import { abi as vanaAbi } from './generated/IVanaDataPermission';

/** Why a check denied; a denied operation ends with it as its `error.code`, so each is an operation code. */
export type DenyCode = OperationErrorCodeSubset<
  | 'grant_not_found'
  | 'grant_revoked'
  | 'grant_expired'
  | 'wrong_grantee'
  | 'wrong_server'
  | 'operation_not_granted'
  | 'file_not_granted'
  | 'not_authorized'
  | 'chain_unavailable'
>;

export type PermissionDecision =
  { allowed: true; blockNumber: bigint } | { allowed: false; code: DenyCode; blockNumber?: bigint };

export type ServerPolicy = { kind: 'grants' } | { kind: 'contract'; address: Address };

export interface PermissionCheckRequest {
  serverId: string;
  ownerAddress: Address;
  policy: ServerPolicy;
  /** DataPermissions grant id as a decimal string (required for `kind: 'grants'`). */
  grantId?: string;
  grantee: Address;
  operation: string;
  /** Hearth file ids (`fil_…`), or a collective's dataset id (`dst_…`) standing for its files. */
  fileIds: string[];
  /**
   * A collective's aggregate over every current contribution: a grant must cover all files (`allFiles`), since
   * the set is the collective's, not one the grant lists.
   */
  requireAllFiles?: boolean;
}

export interface PermissionCheckerOptions {
  rpcUrl: string;
  chainId: number;
  dataPermissionsAddress: Address;
  /** Whole-check budget; past it the answer is `chain_unavailable`. */
  timeoutMs: number;
  /** How many blocks a cached "allowed" may serve (0 = no cache). Default 1: only the block it was read at. */
  cacheTtlBlocks?: number;
  /** GrantRevoked polling interval (default 1000 ms). */
  pollingIntervalMs?: number;
  /** Max cached decisions. */
  cacheSize?: number;
  /**
   * How old a head read may be and still serve an "allowed" (default 0: every check reads the head). A
   * pre-check that the worker repeats right before decryption may take an allow that is this much stale; a
   * denial is always confirmed at a fresh head, so a grant added a moment ago is never refused for it.
   */
  headMaxAgeMs?: number;
}

/** A decision of at most this many contract calls sends them as parallel requests, not as one batch. */
const MAX_UNBATCHED_CALLS = 4;

/** Widest log range one revocation scan asks for. */
const MAX_SCAN_BLOCKS = 5000n;

interface CacheEntry {
  blockNumber: bigint;
  grantId: string | undefined;
}

/** Thrown inside a check to stop at the first denial; never escapes `check`. */
class Deny extends Error {
  constructor(readonly code: DenyCode) {
    super(code);
  }
}

export class PermissionChecker {
  private readonly client: PublicClient;
  private readonly batchClient: PublicClient;
  private readonly address: Address;
  private readonly ttl: bigint;
  private readonly timeoutMs: number;
  private readonly cacheSize: number;
  private readonly cache = new Map<string, CacheEntry>();
  private chainIdVerified = false;
  /** Counters for metrics: cached answers served, and decisions read from the chain. */
  readonly stats = { cacheHits: 0, chainReads: 0, headReads: 0 };
  /**
   * The head read in flight, shared by checks arriving meanwhile: for them it is a read made at most one round
   * trip before they began, as if they had arrived that much earlier; the decision still names its block.
   */
  private headInFlight: Promise<bigint> | undefined;
  private lastHead: { blockNumber: bigint; at: number } | undefined;
  private readonly pollingIntervalMs: number;
  private scanTimer: NodeJS.Timeout | undefined;
  private lastScannedBlock: bigint | undefined;
  private closed = false;

  constructor(private readonly opts: PermissionCheckerOptions) {
    this.address = getAddress(opts.dataPermissionsAddress);
    this.timeoutMs = opts.timeoutMs;
    this.ttl = BigInt(Math.max(0, Math.floor(opts.cacheTtlBlocks ?? 1)));
    this.cacheSize = opts.cacheSize ?? 10_000;
    const clientOptions = {
      rpcUrl: opts.rpcUrl,
      chainId: opts.chainId,
      timeoutMs: opts.timeoutMs,
      pollingIntervalMs: opts.pollingIntervalMs ?? 1000,
    };
    // viem's batching holds every request for a timer (at least 1 ms in Node): a decision's few calls go as
    // parallel requests, and only a wide one (many files) travels as one batch.
    this.client = createHearthPublicClient(clientOptions);
    this.batchClient = createHearthPublicClient({ ...clientOptions, batch: true });
    this.pollingIntervalMs = opts.pollingIntervalMs ?? 1000;
    // A one-block cache needs no watcher: an entry is reused only at the block it was read at, and a revocation
    // lands in a later block.
    if (this.ttl > 1n) this.scheduleRevocationScan(0);
  }

  /**
   * Watches GrantRevoked by polling eth_getLogs over block ranges (no server-side filters: they get lost
   * behind load-balanced RPCs, and viem's filter watcher can keep polling after unwatch when the
   * uninstall call fails). The timer is unref'd so it never keeps a process alive.
   */
  private scheduleRevocationScan(delayMs: number): void {
    if (this.closed) return;
    this.scanTimer = setTimeout(() => {
      void this.scanRevocations().finally(() => this.scheduleRevocationScan(this.pollingIntervalMs));
    }, delayMs);
    this.scanTimer.unref();
  }

  private async scanRevocations(): Promise<void> {
    try {
      const head = await this.client.getBlockNumber({ cacheTime: 0 });
      const from = this.lastScannedBlock;
      if (from === undefined) {
        this.lastScannedBlock = head; // entries cached from now on are read at blocks >= head
        return;
      }
      if (head <= from) return;
      if (head - from > MAX_SCAN_BLOCKS) {
        this.cache.clear(); // too far behind to scan: forget everything instead
        this.lastScannedBlock = head;
        return;
      }
      const logs = await this.client.getContractEvents({
        address: this.address,
        abi: dataPermissionsAbi,
        eventName: 'GrantRevoked',
        fromBlock: from + 1n,
        toBlock: head,
        strict: true,
      });
      for (const log of logs) this.invalidateGrant(log.args.grantId.toString(10));
      this.lastScannedBlock = head;
    } catch {
      // Chain down: cached entries still expire after cacheTtlBlocks, and every hit re-reads the head.
    }
  }

  /**
   * Drops every cached decision of a grant (also called by the GrantRevoked watcher), and the head last read:
   * the next check reads a head at least as new as the change that led here.
   */
  invalidateGrant(grantId: string): void {
    for (const [key, entry] of this.cache) if (entry.grantId === grantId) this.cache.delete(key);
    this.lastHead = undefined;
  }

  /** Stops the revocation watcher and clears the cache. */
  close(): void {
    this.closed = true;
    clearTimeout(this.scanTimer);
    this.cache.clear();
  }

  async check(req: PermissionCheckRequest): Promise<PermissionDecision> {
    if (this.closed) return { allowed: false, code: 'chain_unavailable' };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<PermissionDecision>((resolve) => {
      timer = setTimeout(() => resolve({ allowed: false, code: 'chain_unavailable' }), this.timeoutMs);
    });
    try {
      return await Promise.race([this.decide(req), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async decide(req: PermissionCheckRequest): Promise<PermissionDecision> {
    const maxAgeMs = this.opts.headMaxAgeMs ?? 0;
    const decision = await this.decideAt(req, maxAgeMs);
    if (decision.allowed || maxAgeMs === 0) return decision;
    // Refused at a head that may be stale (or is gone, after a reorg): only a fresh one may refuse.
    return this.decideAt(req, 0);
  }

  private async decideAt(req: PermissionCheckRequest, headMaxAgeMs: number): Promise<PermissionDecision> {
    let blockNumber: bigint | undefined;
    try {
      const input = normalise(req);
      if (!this.chainIdVerified) {
        // A checker pointed at the wrong chain must not allow anything.
        if ((await this.client.getChainId()) !== this.opts.chainId)
          return { allowed: false, code: 'chain_unavailable' };
        this.chainIdVerified = true;
      }
      const recent = this.lastHead;
      const head =
        recent && performance.now() - recent.at <= headMaxAgeMs ? recent.blockNumber : await this.readHead();
      blockNumber = head;
      const key = cacheKey(req);
      const cached = this.cache.get(key);
      if (cached && head >= cached.blockNumber && head - cached.blockNumber < this.ttl) {
        this.stats.cacheHits++;
        return { allowed: true, blockNumber: cached.blockNumber };
      }
      if (cached) this.cache.delete(key);
      this.stats.chainReads++;

      if (req.policy.kind === 'grants') await this.checkGrant(input, head);
      else await this.checkContract(getAddress(req.policy.address), input, head);

      if (this.ttl > 0n) this.remember(key, { blockNumber: head, grantId: input.grantId?.toString(10) });
      return { allowed: true, blockNumber: head };
    } catch (err) {
      if (err instanceof Deny) return { allowed: false, code: err.code, blockNumber };
      // Transport failures and anything unexpected: fail closed.
      return { allowed: false, code: 'chain_unavailable', blockNumber };
    }
  }

  private readHead(): Promise<bigint> {
    if (!this.headInFlight) {
      this.stats.headReads++;
      const startedAt = performance.now();
      this.headInFlight = this.client
        .getBlockNumber({ cacheTime: 0 })
        .then((blockNumber) => {
          // Aged from when the read was sent: the head it returns was current then at the earliest.
          this.lastHead = { blockNumber, at: startedAt };
          return blockNumber;
        })
        .finally(() => {
          this.headInFlight = undefined;
        });
    }
    return this.headInFlight;
  }

  private async checkGrant(input: Normalised, blockNumber: bigint): Promise<void> {
    if (input.grantId === undefined) throw new Deny('grant_not_found');
    const grantId = input.grantId;
    // The block's time is read only when needed: when the contract allows a file, it also checked the expiry
    // by that block's clock, so the allowed path asks for no block (a scope of no files still does).
    const calls = this.clientFor(1 + input.fileUints.length);
    const [grantResult, allowedPerFile] = await Promise.all([
      calls
        .readContract({
          address: this.address,
          abi: dataPermissionsAbi,
          functionName: 'getGrant',
          args: [grantId],
          blockNumber,
        })
        .then(
          (grant) => ({ grant }),
          (err: unknown) => {
            if (revertOf(err)?.errorName === 'GrantNotFound') return { grant: undefined };
            throw err;
          },
        ),
      Promise.all(
        input.fileUints.map((fileId) =>
          calls.readContract({
            address: this.address,
            abi: dataPermissionsAbi,
            functionName: 'isAllowed',
            args: [grantId, input.grantee, input.operation, fileId],
            blockNumber,
          }),
        ),
      ),
    ]);
    const g = grantResult.grant;
    // Identity first (whose grant is it, for what, to whom), then state, then scope.
    if (!g) throw new Deny('grant_not_found');
    if (getAddress(g.grantor) !== input.owner) throw new Deny('not_authorized');
    if (g.serverId !== input.serverId) throw new Deny('wrong_server');
    if (getAddress(g.grantee) !== input.grantee) throw new Deny('wrong_grantee');
    if (g.revoked) throw new Deny('grant_revoked');
    const contractAllowed = allowedPerFile.length > 0 && allowedPerFile.every((ok) => ok);
    if (g.expiresAt !== 0n && !contractAllowed) {
      const block = await this.client.getBlock({ blockNumber });
      if (block.timestamp >= g.expiresAt) throw new Deny('grant_expired');
    }
    if (!g.operations.includes(input.operation)) throw new Deny('operation_not_granted');
    if (input.invalidFile) throw new Deny('file_not_granted');
    if (input.requireAllFiles && !g.allFiles) throw new Deny('file_not_granted');
    if (!g.allFiles) {
      const granted = new Set(g.fileIds);
      if (input.fileUints.some((f) => !granted.has(f))) throw new Deny('file_not_granted');
    }
    // The contract's own answer must agree (it is the authority; this also covers expiry by its clock).
    if (allowedPerFile.some((ok) => !ok)) throw new Deny('not_authorized');
  }

  private async checkContract(policy: Address, input: Normalised, blockNumber: bigint): Promise<void> {
    if (input.invalidFile) throw new Deny('not_authorized');
    const calls = this.clientFor(input.fileUints.length);
    const ask = (args: readonly [Address] | readonly [Address, bigint]) =>
      calls
        .readContract({ address: policy, abi: vanaAbi, functionName: 'authorized', args, blockNumber })
        .catch((err: unknown) => {
          if (isTransportError(err)) throw err;
          return false; // reverted, no code, or malformed answer: the policy did not authorize
        });
    const answers =
      input.fileUints.length === 0
        ? [await ask([input.grantee])]
        : await Promise.all(input.fileUints.map((f) => ask([input.grantee, f])));
    if (answers.some((ok) => ok !== true)) throw new Deny('not_authorized');
  }

  /** Past a few calls at once, one batched HTTP request is cheaper than the batch's timer. */
  private clientFor(calls: number): PublicClient {
    return calls > MAX_UNBATCHED_CALLS ? this.batchClient : this.client;
  }

  private remember(key: string, entry: CacheEntry): void {
    // Past one block, only entries the revocation scan will still cover: revocations at or before
    // lastScannedBlock were already processed, so an entry read before that block could miss one.
    const scanned = this.lastScannedBlock;
    if (this.ttl > 1n && (scanned === undefined || entry.blockNumber < scanned)) return;
    if (this.cache.size >= this.cacheSize) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(key, entry);
  }
}

interface Normalised {
  serverId: string;
  owner: Address;
  grantee: Address;
  grantId: bigint | undefined;
  operation: string;
  fileUints: bigint[];
  invalidFile: boolean;
  requireAllFiles: boolean;
}

function normalise(req: PermissionCheckRequest): Normalised {
  if (!isAddress(req.grantee, { strict: false })) throw new Deny('wrong_grantee');
  if (!isAddress(req.ownerAddress, { strict: false })) throw new Deny('not_authorized');
  let grantId: bigint | undefined;
  if (req.grantId !== undefined) {
    if (!/^[1-9][0-9]{0,77}$/.test(req.grantId)) throw new Deny('grant_not_found');
    grantId = BigInt(req.grantId);
    if (grantId >= 1n << 256n) throw new Deny('grant_not_found');
  }
  const valid = req.fileIds.filter((id) => isFileId(id) || isDatasetId(id));
  return {
    serverId: req.serverId,
    owner: getAddress(req.ownerAddress),
    grantee: getAddress(req.grantee),
    grantId,
    operation: req.operation,
    fileUints: valid.map(scopeIdToUint),
    invalidFile: valid.length !== req.fileIds.length,
    requireAllFiles: req.requireAllFiles === true,
  };
}

function cacheKey(req: PermissionCheckRequest): string {
  return JSON.stringify([
    req.policy.kind === 'contract' ? req.policy.address.toLowerCase() : 'grants',
    req.serverId,
    req.ownerAddress.toLowerCase(),
    req.grantId ?? null,
    req.grantee.toLowerCase(),
    req.operation,
    [...req.fileIds].sort(),
    req.requireAllFiles === true,
  ]);
}
