/**
 * GrantRelayer: builds EIP-712 typed data for owners to sign, validates what they send back, checks the
 * signature off-chain, and relays it to DataPermissions (or a Whitelist) paying gas from the platform key.
 */
import {
  createWalletClient,
  getAddress,
  http,
  parseEventLogs,
  recoverTypedDataAddress,
  type Address,
  type Hex,
  type PublicClient,
  type SimulateContractParameters,
  type WalletClient,
  type Account,
  type Chain,
  type Transport,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { createHearthPublicClient, hearthChain } from './client';
import { isTransportError, PermissionsError, revertOf } from './errors';
import { isDatasetId, isFileId, scopeIdToUint, uintToScopeId } from './file-ids';
import { abi as dataPermissionsAbi } from './generated/DataPermissions';
import { abi as whitelistAbi, bytecode as whitelistBytecode } from './generated/Whitelist';
import {
  DATA_PERMISSIONS_DOMAIN_NAME,
  DOMAIN_VERSION,
  GRANT_TYPES,
  parseGrantTypedData,
  parseRevokeGrantTypedData,
  parseSignature,
  parseWhitelistChangeTypedData,
  REVOKE_GRANT_TYPES,
  WHITELIST_CHANGE_TYPES,
  WHITELIST_DOMAIN_NAME,
  type GrantTypedData,
  type HearthTypedData,
  type RevokeGrantTypedData,
  type TypedDataFieldError,
  type ValidationResult,
  type WhitelistChangeTypedData,
} from './typed-data';

/** A lock shared by every process that sends from one account (e.g. Redis-backed, across gateway replicas). */
export interface SendLock {
  /** Runs `fn` while no other holder of `key`, in any process, runs. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

export interface GrantRelayerOptions {
  rpcUrl: string;
  chainId: number;
  dataPermissionsAddress: Address;
  relayerPrivateKey: Hex;
  /** Per RPC request. */
  timeoutMs?: number;
  /** First block to scan for GrantAdded logs (the contract's deployment block on long chains). */
  fromBlock?: bigint;
  /** Widest block range of one log query. Default 10,000: many public RPC endpoints refuse wider ones. */
  logWindowBlocks?: bigint;
  /**
   * Serialises the relayer account's transactions across every process that relays from it (gateway replicas).
   * Without it, only this process's own transactions are serialised.
   */
  sendLock?: SendLock;
  /** Receipt polling interval. */
  pollingIntervalMs?: number;
}

export interface BuildGrantInput {
  grantor: Address;
  grantee: Address;
  serverId: string;
  operations: string[];
  /** Hearth file ids (`fil_…`); omit or leave empty with `allFiles`. */
  fileIds?: string[];
  allFiles?: boolean;
  expiresAt?: Date;
  /** How long the signature stays valid (default 1 hour) from the chain's latest block time. */
  deadlineSeconds?: number;
}

export interface GrantRecord {
  grantId: string;
  grantor: Address;
  grantee: Address;
  serverId: string;
  operations: string[];
  /** Hearth file ids; an on-chain number that cannot be one is given as its decimal string. */
  fileIds: string[];
  allFiles: boolean;
  expiresAt: Date | null;
  revoked: boolean;
  expired: boolean;
  status: 'active' | 'revoked' | 'expired';
  /** Transaction and block that added it (null when looked up by id alone). */
  txHash: Hex | null;
  addedAtBlock: bigint | null;
}

export interface RelayerHealth {
  blockNumber: bigint;
  relayerAddress: Address;
  relayerBalanceWei: bigint;
}

const DEFAULT_DEADLINE_SECONDS = 3600;

type StoredGrant = {
  grantor: Address;
  grantee: Address;
  serverId: string;
  operations: readonly string[];
  fileIds: readonly bigint[];
  allFiles: boolean;
  expiresAt: bigint;
  revoked: boolean;
};

export class GrantRelayer {
  readonly relayerAddress: Address;
  readonly chainId: number;
  readonly dataPermissionsAddress: Address;
  private readonly client: PublicClient;
  private readonly wallet: WalletClient<Transport, Chain, Account>;
  private readonly fromBlock: bigint;
  private readonly logWindowBlocks: bigint;
  private sendQueue: Promise<void> = Promise.resolve();
  private readonly sendLock: SendLock | undefined;

  constructor(opts: GrantRelayerOptions) {
    this.chainId = opts.chainId;
    this.dataPermissionsAddress = getAddress(opts.dataPermissionsAddress);
    this.fromBlock = opts.fromBlock ?? 0n;
    this.sendLock = opts.sendLock;
    this.logWindowBlocks = opts.logWindowBlocks && opts.logWindowBlocks > 0n ? opts.logWindowBlocks : 10_000n;
    this.client = createHearthPublicClient({
      rpcUrl: opts.rpcUrl,
      chainId: opts.chainId,
      timeoutMs: opts.timeoutMs,
      pollingIntervalMs: opts.pollingIntervalMs ?? 200,
    });
    // No nonce manager: every send names its nonce (enqueueSend), so processes sharing the key agree.
    const account = privateKeyToAccount(opts.relayerPrivateKey);
    this.relayerAddress = account.address;
    this.wallet = createWalletClient({
      account,
      chain: hearthChain(opts.chainId, opts.rpcUrl),
      transport: http(opts.rpcUrl, { timeout: opts.timeoutMs ?? 30_000, retryCount: 0 }),
    });
  }

  /* ---------------- grants ---------------- */

  /** Typed data for the owner to sign, carrying their current on-chain nonce. */
  async buildGrantTypedData(input: BuildGrantInput): Promise<GrantTypedData> {
    const errors: TypedDataFieldError[] = [];
    const fileIds = input.fileIds ?? [];
    fileIds.forEach((f, i) => {
      if (!isFileId(f) && !isDatasetId(f))
        errors.push({
          field: `fileIds.${i}`,
          code: 'invalid_value',
          message: "not a file id (fil_…) or a collective's dataset id (dst_…)",
        });
    });
    if (errors.length > 0) throw validation(errors);
    const [nonce, now] = await this.chain(() =>
      Promise.all([this.nonceOf(input.grantor), this.latestTimestamp()]),
    );
    const expiresAt = input.expiresAt ? BigInt(Math.floor(input.expiresAt.getTime() / 1000)) : 0n;
    if (expiresAt !== 0n && expiresAt <= now) {
      throw validation([{ field: 'expiresAt', code: 'expired', message: 'expiresAt must be in the future' }]);
    }
    const candidate = {
      domain: this.domain(),
      types: GRANT_TYPES,
      primaryType: 'Grant',
      message: {
        grantor: input.grantor,
        grantee: input.grantee,
        serverId: input.serverId,
        operations: input.operations,
        fileIds: fileIds.map(scopeIdToUint),
        allFiles: input.allFiles ?? false,
        expiresAt,
        nonce,
        deadline: now + BigInt(input.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS),
      },
    };
    const parsed = parseGrantTypedData(candidate, this.expectedDomain());
    if (!parsed.ok) throw validation(parsed.errors);
    return parsed.typedData;
  }

  /** Typed data for the grantor to sign a revocation of `grantId`. */
  async buildRevokeTypedData(input: {
    grantor: Address;
    grantId: string | bigint;
    deadlineSeconds?: number;
  }): Promise<RevokeGrantTypedData> {
    const grantId = parseGrantId(input.grantId);
    const [nonce, now] = await this.chain(() =>
      Promise.all([this.nonceOf(input.grantor), this.latestTimestamp()]),
    );
    return {
      domain: this.domain(),
      types: REVOKE_GRANT_TYPES,
      primaryType: 'RevokeGrant',
      message: {
        grantor: getAddress(input.grantor),
        grantId,
        nonce,
        deadline: now + BigInt(input.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS),
      },
    };
  }

  /** Parses typed data as a client sends it (JSON: numbers as decimal strings) and checks it against the chain. */
  async validateGrantTypedData(input: unknown): Promise<ValidationResult<GrantTypedData>> {
    const parsed = parseGrantTypedData(input, this.expectedDomain());
    if (!parsed.ok) return parsed;
    const m = parsed.typedData.message;
    const errors = await this.chainChecks(m.grantor, m.nonce, m.deadline);
    if (m.expiresAt !== 0n && m.expiresAt <= (await this.chain(() => this.latestTimestamp()))) {
      errors.push({
        field: 'message.expiresAt',
        code: 'expired',
        message: 'the grant would already be expired',
      });
    }
    return errors.length > 0 ? { ok: false, errors } : parsed;
  }

  async validateRevokeTypedData(input: unknown): Promise<ValidationResult<RevokeGrantTypedData>> {
    const parsed = parseRevokeGrantTypedData(input, this.expectedDomain());
    if (!parsed.ok) return parsed;
    const m = parsed.typedData.message;
    const errors = await this.chainChecks(m.grantor, m.nonce, m.deadline);
    return errors.length > 0 ? { ok: false, errors } : parsed;
  }

  /** Verifies the grantor's signature off-chain, then relays; resolves once the grant is mined. */
  async relayGrant(typedData: unknown, signature: unknown): Promise<{ grantId: string; txHash: Hex }> {
    const valid = await this.validateGrantTypedData(typedData);
    if (!valid.ok) throw validation(valid.errors);
    const td = valid.typedData;
    const sig = await this.verifySigner(td, signature, td.message.grantor);
    const txHash = await this.simulateAndSend({
      address: this.dataPermissionsAddress,
      abi: dataPermissionsAbi,
      functionName: 'addGrant',
      args: [td.message, sig],
    });
    const receipt = await this.waitMined(txHash);
    const [added] = parseEventLogs({
      abi: dataPermissionsAbi,
      eventName: 'GrantAdded',
      logs: receipt.logs,
    }).filter((l) => getAddress(l.address) === this.dataPermissionsAddress);
    if (!added)
      throw new PermissionsError('grant_invalid', `transaction ${txHash} emitted no GrantAdded event`);
    return { grantId: added.args.grantId.toString(10), txHash };
  }

  /** Verifies the grantor's revocation signature off-chain, then relays it. */
  async relayRevoke(typedData: unknown, signature: unknown): Promise<{ grantId: string; txHash: Hex }> {
    const valid = await this.validateRevokeTypedData(typedData);
    if (!valid.ok) throw validation(valid.errors);
    const td = valid.typedData;
    const sig = await this.verifySigner(td, signature, td.message.grantor);
    const txHash = await this.simulateAndSend({
      address: this.dataPermissionsAddress,
      abi: dataPermissionsAbi,
      functionName: 'revokeGrantBySig',
      args: [td.message, sig],
    });
    await this.waitMined(txHash);
    return { grantId: td.message.grantId.toString(10), txHash };
  }

  /** Grants of `grantor` (optionally for one server) with their current on-chain state. */
  async listGrants(query: { grantor: Address; serverId?: string }): Promise<GrantRecord[]> {
    return this.chain(async () => {
      const block = await this.client.getBlock({ blockTag: 'latest' });
      // In windows: public RPC endpoints refuse eth_getLogs over wide block ranges.
      const logs = [];
      for (let from = this.fromBlock; from <= block.number; from += this.logWindowBlocks) {
        const last = from + this.logWindowBlocks - 1n;
        const to = last < block.number ? last : block.number;
        logs.push(
          ...(await this.client.getContractEvents({
            address: this.dataPermissionsAddress,
            abi: dataPermissionsAbi,
            eventName: 'GrantAdded',
            args: { grantor: getAddress(query.grantor) },
            fromBlock: from,
            toBlock: to,
            strict: true,
          })),
        );
      }
      const wanted = logs.filter((l) => query.serverId === undefined || l.args.serverId === query.serverId);
      const records = await Promise.all(
        wanted.map(async (l) => {
          const g = await this.readGrant(l.args.grantId, block.number);
          return toRecord(l.args.grantId, g, block.timestamp, l.transactionHash, l.blockNumber);
        }),
      );
      return records.sort((a, b) => (BigInt(a.grantId) < BigInt(b.grantId) ? -1 : 1));
    });
  }

  /** One grant's current state, or null when there is no such grant. */
  async getGrant(grantId: string | bigint): Promise<GrantRecord | null> {
    const id = parseGrantId(grantId);
    return this.chain(async () => {
      const block = await this.client.getBlock({ blockTag: 'latest' });
      try {
        return toRecord(id, await this.readGrant(id, block.number), block.timestamp, null, null);
      } catch (err) {
        if (revertOf(err)?.errorName === 'GrantNotFound') return null;
        throw err;
      }
    });
  }

  async health(): Promise<RelayerHealth> {
    return this.chain(async () => {
      const [blockNumber, relayerBalanceWei] = await Promise.all([
        this.client.getBlockNumber({ cacheTime: 0 }),
        this.client.getBalance({ address: this.relayerAddress }),
      ]);
      return { blockNumber, relayerAddress: this.relayerAddress, relayerBalanceWei };
    });
  }

  /* ---------------- whitelists ---------------- */

  /** Deploys a Whitelist owned by `owner` (e.g. a collective's admin); the relayer pays. */
  async deployWhitelist(owner: Address): Promise<{ address: Address; txHash: Hex }> {
    const txHash = await this.chain(() =>
      this.enqueueSend((nonce) =>
        this.wallet.deployContract({
          abi: whitelistAbi,
          bytecode: whitelistBytecode,
          args: [getAddress(owner)],
          nonce,
        }),
      ),
    );
    const receipt = await this.waitMined(txHash);
    if (!receipt.contractAddress)
      throw new PermissionsError('policy_invalid', 'whitelist deployment created no contract');
    return { address: getAddress(receipt.contractAddress), txHash };
  }

  /** Typed data for the whitelist's current owner to sign an add (`add: true`) or removal. */
  async buildWhitelistChangeTypedData(input: {
    whitelist: Address;
    account: Address;
    add: boolean;
    deadlineSeconds?: number;
  }): Promise<WhitelistChangeTypedData> {
    const whitelist = getAddress(input.whitelist);
    const [owner, now] = await this.chain(() =>
      Promise.all([
        this.client.readContract({ address: whitelist, abi: whitelistAbi, functionName: 'owner' }),
        this.latestTimestamp(),
      ]),
    );
    const nonce = await this.chain(() =>
      this.client.readContract({
        address: whitelist,
        abi: whitelistAbi,
        functionName: 'nonces',
        args: [owner],
      }),
    );
    return {
      domain: {
        name: WHITELIST_DOMAIN_NAME,
        version: DOMAIN_VERSION,
        chainId: this.chainId,
        verifyingContract: whitelist,
      },
      types: WHITELIST_CHANGE_TYPES,
      primaryType: 'WhitelistChange',
      message: {
        owner,
        account: getAddress(input.account),
        add: input.add,
        nonce,
        deadline: now + BigInt(input.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS),
      },
    };
  }

  /** Relays an owner-signed whitelist change to the contract named in `typedData.domain.verifyingContract`. */
  async relayWhitelistChange(typedData: unknown, signature: unknown): Promise<{ txHash: Hex }> {
    const parsed = parseWhitelistChangeTypedData(typedData, {
      name: WHITELIST_DOMAIN_NAME,
      chainId: this.chainId,
    });
    if (!parsed.ok) throw validation(parsed.errors);
    const td = parsed.typedData;
    const whitelist = td.domain.verifyingContract;
    const [nonce, now] = await this.chain(() =>
      Promise.all([
        this.client.readContract({
          address: whitelist,
          abi: whitelistAbi,
          functionName: 'nonces',
          args: [td.message.owner],
        }),
        this.latestTimestamp(),
      ]),
    );
    const errors = nonceDeadlineErrors(nonce, now, td.message.nonce, td.message.deadline);
    if (errors.length > 0) throw validation(errors);
    const sig = await this.verifySigner(td, signature, td.message.owner);
    const txHash = await this.simulateAndSend({
      address: whitelist,
      abi: whitelistAbi,
      functionName: td.message.add ? 'addBySig' : 'removeBySig',
      args: [td.message, sig],
    });
    await this.waitMined(txHash);
    return { txHash };
  }

  /* ---------------- internals ---------------- */

  private domain(): GrantTypedData['domain'] {
    return {
      name: DATA_PERMISSIONS_DOMAIN_NAME,
      version: DOMAIN_VERSION,
      chainId: this.chainId,
      verifyingContract: this.dataPermissionsAddress,
    };
  }

  private expectedDomain() {
    return {
      name: DATA_PERMISSIONS_DOMAIN_NAME,
      chainId: this.chainId,
      verifyingContract: this.dataPermissionsAddress,
    };
  }

  private nonceOf(address: Address): Promise<bigint> {
    return this.client.readContract({
      address: this.dataPermissionsAddress,
      abi: dataPermissionsAbi,
      functionName: 'nonces',
      args: [getAddress(address)],
    });
  }

  /** Chain time, not wall time: the contract compares deadlines with block.timestamp. */
  private async latestTimestamp(): Promise<bigint> {
    return (await this.client.getBlock({ blockTag: 'latest' })).timestamp;
  }

  private async chainChecks(
    signer: Address,
    nonce: bigint,
    deadline: bigint,
  ): Promise<TypedDataFieldError[]> {
    const [current, now] = await this.chain(() =>
      Promise.all([this.nonceOf(signer), this.latestTimestamp()]),
    );
    return nonceDeadlineErrors(current, now, nonce, deadline);
  }

  private readGrant(grantId: bigint, blockNumber: bigint): Promise<StoredGrant> {
    return this.client.readContract({
      address: this.dataPermissionsAddress,
      abi: dataPermissionsAbi,
      functionName: 'getGrant',
      args: [grantId],
      blockNumber,
    });
  }

  private async verifySigner(td: HearthTypedData, signature: unknown, expected: Address): Promise<Hex> {
    const sig = parseSignature(signature);
    if (!sig)
      throw new PermissionsError('invalid_signature', 'signature must be a 65-byte 0x-prefixed hex string');
    let signer: Address;
    try {
      // why cast: viem cannot infer its generics from a union of typed-data shapes; each member is valid.
      signer = await recoverTypedDataAddress({ ...td, signature: sig } as unknown as Parameters<
        typeof recoverTypedDataAddress
      >[0]);
    } catch (err) {
      throw new PermissionsError('invalid_signature', 'signature cannot be recovered', [], { cause: err });
    }
    if (signer !== getAddress(expected)) {
      throw new PermissionsError(
        'signature_mismatch',
        `signature was made by ${signer}, not ${getAddress(expected)}`,
      );
    }
    return sig;
  }

  /** Simulates first (no gas spent on a revert; custom errors decoded), then sends from the relayer. */
  private async simulateAndSend(call: {
    address: Address;
    abi: typeof dataPermissionsAbi | typeof whitelistAbi;
    functionName: string;
    args: readonly unknown[];
  }): Promise<Hex> {
    try {
      // why cast: the call is assembled from a union of ABIs; each caller passes a matching name and args.
      const params = { ...call, account: this.wallet.account } as unknown as SimulateContractParameters;
      const { request } = await this.client.simulateContract(params);
      return await this.enqueueSend((nonce) =>
        this.wallet.writeContract({
          ...(request as unknown as Parameters<typeof this.wallet.writeContract>[0]),
          nonce,
        }),
      );
    } catch (err) {
      throw mapRelayError(err);
    }
  }

  /**
   * One transaction at a time from the relayer account, so nonces never collide: in this process through a
   * queue, across processes (gateway replicas) through the send lock; under both, the nonce is the account's
   * pending transaction count, read once the turn has come.
   */
  private enqueueSend(send: (nonce: number) => Promise<Hex>): Promise<Hex> {
    const withNonce = async () =>
      send(await this.client.getTransactionCount({ address: this.relayerAddress, blockTag: 'pending' }));
    const turn = () =>
      this.sendLock
        ? this.sendLock.run(`relayer:${this.chainId}:${this.relayerAddress}`, withNonce)
        : withNonce();
    const run = this.sendQueue.then(turn);
    this.sendQueue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async waitMined(txHash: Hex) {
    const receipt = await this.chain(() =>
      this.client.waitForTransactionReceipt({ hash: txHash, timeout: 120_000 }),
    );
    if (receipt.status !== 'success')
      throw new PermissionsError('grant_invalid', `transaction ${txHash} reverted`);
    return receipt;
  }

  /** Runs chain reads, turning transport failures into `chain_unavailable`. */
  private async chain<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof PermissionsError) throw err;
      if (isTransportError(err))
        throw new PermissionsError('chain_unavailable', 'the chain RPC is unreachable', [], { cause: err });
      throw err;
    }
  }
}

function validation(errors: TypedDataFieldError[]): PermissionsError {
  return new PermissionsError('validation_failed', 'typed data is invalid', errors);
}

function nonceDeadlineErrors(
  current: bigint,
  now: bigint,
  nonce: bigint,
  deadline: bigint,
): TypedDataFieldError[] {
  const errors: TypedDataFieldError[] = [];
  if (nonce !== current) {
    errors.push({
      field: 'message.nonce',
      code: 'stale_nonce',
      message: `nonce ${nonce} is not the signer's current nonce ${current}; request fresh typed data`,
    });
  }
  if (deadline < now) {
    errors.push({ field: 'message.deadline', code: 'expired', message: 'the signature deadline has passed' });
  }
  return errors;
}

function parseGrantId(v: string | bigint): bigint {
  if (typeof v === 'bigint' && v > 0n) return v;
  if (typeof v === 'string' && /^[1-9][0-9]{0,77}$/.test(v)) return BigInt(v);
  throw validation([
    { field: 'grantId', code: 'invalid_integer', message: 'grantId must be a positive decimal string' },
  ]);
}

function toRecord(
  grantId: bigint,
  g: StoredGrant,
  now: bigint,
  txHash: Hex | null,
  addedAtBlock: bigint | null,
): GrantRecord {
  const expired = g.expiresAt !== 0n && now >= g.expiresAt;
  return {
    grantId: grantId.toString(10),
    grantor: getAddress(g.grantor),
    grantee: getAddress(g.grantee),
    serverId: g.serverId,
    operations: [...g.operations],
    fileIds: g.fileIds.map((n) => (n < 1n << 129n ? uintToScopeId(n) : n.toString(10))),
    allFiles: g.allFiles,
    expiresAt: g.expiresAt === 0n ? null : new Date(Number(g.expiresAt) * 1000),
    revoked: g.revoked,
    expired,
    status: g.revoked ? 'revoked' : expired ? 'expired' : 'active',
    txHash,
    addedAtBlock,
  };
}

/** Maps a failed simulate/send to a stable error (custom errors of the contracts decoded). */
function mapRelayError(err: unknown): PermissionsError {
  if (err instanceof PermissionsError) return err;
  if (isTransportError(err))
    return new PermissionsError('chain_unavailable', 'the chain RPC is unreachable', [], { cause: err });
  const revert = revertOf(err);
  if (!revert) return new PermissionsError('grant_invalid', 'the transaction would fail', [], { cause: err });
  switch (revert.errorName) {
    case 'InvalidNonce':
      return validation([{ field: 'message.nonce', code: 'stale_nonce', message: 'nonce already used' }]);
    case 'SignatureExpired':
      return validation([
        { field: 'message.deadline', code: 'expired', message: 'the signature deadline has passed' },
      ]);
    case 'ExpiryInPast':
      return validation([
        { field: 'message.expiresAt', code: 'expired', message: 'the grant would already be expired' },
      ]);
    case 'InvalidSignature':
      return new PermissionsError('signature_mismatch', 'the contract rejected the signature', [], {
        cause: err,
      });
    case 'GrantNotFound':
      return new PermissionsError('grant_not_found', 'no such grant', [], { cause: err });
    case 'GrantAlreadyRevoked':
      return new PermissionsError('conflict', 'the grant is already revoked', [], { cause: err });
    case 'NotGrantor':
    case 'NotOwner':
      return new PermissionsError('forbidden', 'the signer is not the grantor or owner', [], { cause: err });
    default:
      return new PermissionsError('grant_invalid', `the contract rejected it: ${revert.errorName}`, [], {
        cause: err,
      });
  }
}
