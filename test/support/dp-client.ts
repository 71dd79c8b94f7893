import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createPublicClient,
  createWalletClient,
  http,
  type Address,
  type Hex,
  type PublicClient,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import type { HearthConfig } from '@hearth/config';
import {
  DataPortabilityGranteesContract,
  DataPortabilityPermissionsContract,
  hearthChain,
} from '@hearth/permissions';

/**
 * A builder's Web3Signed client written from the protocol's text (§4.1.9.1), on its own (not Hearth's verifier):
 * the payload's keys sorted alphabetically, its UTF-8 JSON base64url-encoded without padding, an EIP-191
 * signature over that ASCII text.
 */
export function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

export interface SignOptions {
  aud: string;
  method: string;
  uri: string;
  body?: string;
  grantId?: string;
  iat?: number;
  exp?: number;
  /** Overrides of any signed field (to sign what a request does not match). */
  override?: Record<string, unknown>;
}

export async function web3Signed(account: PrivateKeyAccount, o: SignOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    aud: o.aud,
    method: o.method,
    uri: o.uri,
    bodyHash: o.body ? createHash('sha256').update(o.body).digest('hex') : '',
    iat: o.iat ?? now,
    exp: o.exp ?? now + 120,
    ...(o.grantId !== undefined ? { grantId: o.grantId } : {}),
    ...o.override,
  };
  const encoded = Buffer.from(sortedJson(payload), 'utf8').toString('base64url');
  const signature = await account.signMessage({ message: encoded });
  return `Web3Signed ${encoded}.${signature}`;
}

/** Registers builders and relays owner-signed permissions on the dev chain's Data Portability registries. */
export class DpRegistries {
  readonly client: PublicClient;
  private readonly wallet: WalletClient;
  private readonly relayer: PrivateKeyAccount;

  constructor(private readonly config: HearthConfig) {
    if (!config.dataPortability || !config.relayerPrivateKey)
      throw new Error('no Data Portability registries');
    const chain = hearthChain(config.CHAIN_ID, config.CHAIN_RPC_URL);
    this.relayer = privateKeyToAccount(config.relayerPrivateKey);
    this.client = createPublicClient({ chain, transport: http(config.CHAIN_RPC_URL), pollingInterval: 50 });
    this.wallet = createWalletClient({ account: this.relayer, chain, transport: http(config.CHAIN_RPC_URL) });
  }

  get addresses() {
    return this.config.dataPortability!;
  }

  private async send(write: () => Promise<Hex>): Promise<void> {
    const hash = await write();
    const receipt = await this.client.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`);
  }

  /** Registers the builder; returns its grantee id. */
  async registerBuilder(builder: Address, appUrl = 'https://builder.example'): Promise<bigint> {
    await this.send(() =>
      this.wallet.writeContract({
        account: this.relayer,
        chain: null,
        address: this.addresses.grantees,
        abi: DataPortabilityGranteesContract.abi,
        functionName: 'registerGrantee',
        args: [builder, builder, '0x', appUrl],
      }),
    );
    return this.client.readContract({
      address: this.addresses.grantees,
      abi: DataPortabilityGranteesContract.abi,
      functionName: 'granteeAddressToId',
      args: [builder],
    });
  }

  private domain() {
    return {
      name: 'DataPortabilityPermissions',
      version: '1',
      chainId: this.config.CHAIN_ID,
      verifyingContract: this.addresses.permissions,
    } as const;
  }

  private nonce(user: Address): Promise<bigint> {
    return this.client.readContract({
      address: this.addresses.permissions,
      abi: DataPortabilityPermissionsContract.abi,
      functionName: 'userNonce',
      args: [user],
    });
  }

  /** The owner signs a §5.3 grant document into a permission; the relayer submits it. Returns the grant id. */
  async grant(
    owner: PrivateKeyAccount,
    granteeId: bigint,
    builder: Address,
    scopes: string[],
    expiresAt = 0,
  ): Promise<string> {
    const nonce = await this.nonce(owner.address);
    const grant = JSON.stringify({ user: owner.address, builder, scopes, expiresAt, nonce: Number(nonce) });
    const signature = await owner.signTypedData({
      domain: this.domain(),
      types: {
        Permission: [
          { name: 'nonce', type: 'uint256' },
          { name: 'granteeId', type: 'uint256' },
          { name: 'grant', type: 'string' },
          { name: 'fileIds', type: 'uint256[]' },
        ],
      },
      primaryType: 'Permission',
      message: { nonce, granteeId, grant, fileIds: [] },
    });
    await this.send(() =>
      this.wallet.writeContract({
        account: this.relayer,
        chain: null,
        address: this.addresses.permissions,
        abi: DataPortabilityPermissionsContract.abi,
        functionName: 'addPermission',
        args: [{ nonce, granteeId, grant, fileIds: [] }, signature],
      }),
    );
    const ids = await this.client.readContract({
      address: this.addresses.permissions,
      abi: DataPortabilityPermissionsContract.abi,
      functionName: 'userPermissionIdsValues',
      args: [owner.address],
    });
    return ids[ids.length - 1].toString(10);
  }

  async revoke(owner: PrivateKeyAccount, grantId: string): Promise<void> {
    const nonce = await this.nonce(owner.address);
    const permissionId = BigInt(grantId);
    const signature = await owner.signTypedData({
      domain: this.domain(),
      types: {
        RevokePermission: [
          { name: 'nonce', type: 'uint256' },
          { name: 'permissionId', type: 'uint256' },
        ],
      },
      primaryType: 'RevokePermission',
      message: { nonce, permissionId },
    });
    await this.send(() =>
      this.wallet.writeContract({
        account: this.relayer,
        chain: null,
        address: this.addresses.permissions,
        abi: DataPortabilityPermissionsContract.abi,
        functionName: 'revokePermissionWithSignature',
        args: [{ nonce, permissionId }, signature],
      }),
    );
  }
}

/**
 * A Data Portability Gateway as the spec describes the part a personal server uses (§4.2.4 `GET /v1/schemas?scope=`,
 * answered in §4.2.5's `{data, proof}` shape), the schema definitions served at their URLs.
 */
export interface FakeDpGateway {
  url: string;
  schemaRequests: number;
  close(): Promise<void>;
}

export async function startFakeDpGateway(schemas: Record<string, unknown>): Promise<FakeDpGateway> {
  const ids = Object.keys(schemas);
  const state = { schemaRequests: 0 };
  let base = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/v1/schemas') {
      state.schemaRequests++;
      const scope = url.searchParams.get('scope') ?? '';
      const index = ids.indexOf(scope);
      if (index < 0) return send(404, { error: 'schema_not_found' });
      return send(200, {
        data: { schemaId: index + 1, scope, url: `${base}/schemas/${index + 1}.json` },
        proof: { gatewaySignature: '0x', timestamp: Math.floor(Date.now() / 1000), status: 'confirmed' },
      });
    }
    const m = /^\/schemas\/(\d+)\.json$/.exec(url.pathname);
    if (m && ids[Number(m[1]) - 1] !== undefined) return send(200, schemas[ids[Number(m[1]) - 1]]);
    send(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    get schemaRequests() {
      return state.schemaRequests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
