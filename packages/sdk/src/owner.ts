import { createSiweMessage } from 'viem/siwe';
import { asBufferSource, type ByteSource, iterateBytes, knownSize } from './bytes';
import { HearthProblemError } from './errors';
import { ENVELOPE_CONTENT_TYPE, encryptForServer, type EncryptForServerOptions } from './envelope';
import { resolveSigner, type HearthSigner, type ResolvedSigner } from './signer';
import { type ClientOptions, paginate, Transport, unwrap } from './transport';
import type {
  AccessLogEntry,
  ApiKey,
  CreatedApiKey,
  CreatedWebhook,
  HearthEvent,
  Webhook,
  WebhookDelivery,
  DataPortabilityScope,
  Grant,
  GrantInput,
  HearthFile,
  Member,
  Page,
  Server,
  TypedData,
  UsageRow,
} from './types';

export interface SignInOptions extends ClientOptions {
  /** The SIWE statement (default "Sign in to Hearth"). */
  statement?: string;
  /** The SIWE `uri` (default the base URL). */
  uri?: string;
}

export interface UploadProgress {
  /** Bytes of the source read so far (plaintext, before any client-side encryption). */
  bytes: number;
  /** The source's size when known. */
  total?: number;
}

export interface UploadOptions {
  name: string;
  /** Recorded with the file (server-side encryption); default application/octet-stream. */
  contentType?: string;
  /** Encrypt in this process to the server's key (the envelope) instead of on arrival. */
  clientSide?: boolean;
  envelope?: Omit<EncryptForServerOptions, 'onProgress'>;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

export interface ListOptions {
  limit?: number;
  cursor?: string;
}

/** True where fetch can send a streamed body over HTTP/1.1 (Node's undici); browsers need a Blob. */
function canStreamRequests(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

const enc = encodeURIComponent;

/**
 * An owner's session: servers, files, grants, API keys, access log, usage, collectives. Start with
 * `HearthOwner.signIn(walletClient | account, { baseUrl })`, or `new HearthOwner({ baseUrl, token })` with a
 * token kept from an earlier sign-in.
 */
export class HearthOwner {
  readonly http: Transport;
  token: string;
  /** The signed-in wallet's address (EIP-55), when known. */
  readonly address?: `0x${string}`;
  private signer?: ResolvedSigner;

  constructor(options: ClientOptions & { token: string; address?: `0x${string}`; signer?: ResolvedSigner }) {
    this.token = options.token;
    this.address = options.address;
    this.signer = options.signer;
    this.http = new Transport(options, () => this.token);
  }

  /** Sign-In with Ethereum: nonce, an EIP-4361 message signed by the wallet, a session token. */
  static async signIn(signer: HearthSigner, options: SignInOptions): Promise<HearthOwner> {
    const wallet = await resolveSigner(signer);
    const anonymous = new Transport(options, () => undefined);
    const nonce = (await unwrap(anonymous.api.GET('/v1/auth/nonce'))) as {
      nonce: string;
      domain: string;
      chainId: number;
    };
    const message = createSiweMessage({
      domain: nonce.domain,
      address: wallet.address,
      statement: options.statement ?? 'Sign in to Hearth',
      uri: options.uri ?? anonymous.baseUrl,
      version: '1',
      chainId: nonce.chainId,
      nonce: nonce.nonce,
      issuedAt: new Date(),
    });
    const signature = await wallet.signMessage(message);
    const session = (await unwrap(anonymous.api.POST('/v1/auth/siwe', { body: { message, signature } }))) as {
      token: string;
      address: `0x${string}`;
    };
    return new HearthOwner({
      ...options,
      token: session.token,
      address: session.address,
      signer: wallet,
    });
  }

  /** Ends this session on the server. */
  async signOut(): Promise<void> {
    await this.http.request('POST', '/v1/auth/logout');
  }

  private async signerFor(given?: HearthSigner): Promise<ResolvedSigner> {
    if (given) return resolveSigner(given);
    if (!this.signer)
      throw new Error('no signer: pass a wallet client or account (the session was given as a token)');
    return this.signer;
  }

  // ── servers ──────────────────────────────────────────────────────────────────────────────────────────────

  async listServers(options: ListOptions = {}): Promise<Page<Server>> {
    return (await unwrap(
      this.http.api.GET('/v1/servers', { params: { query: options } }),
    )) as unknown as Page<Server>;
  }

  servers(): AsyncGenerator<Server> {
    return paginate((cursor) => this.listServers({ limit: 200, cursor }));
  }

  async getServer(serverId: string): Promise<Server> {
    return (await unwrap(
      this.http.api.GET('/v1/servers/{id}', { params: { path: { id: serverId } } }),
    )) as unknown as Server;
  }

  /** The personal server provisioned at the first sign-in. */
  async personalServer(): Promise<Server> {
    for await (const s of this.servers()) {
      if (s.kind === 'personal' && (!this.address || s.owner === this.address)) return this.getServer(s.id);
    }
    throw new Error('this account has no personal server');
  }

  /**
   * Everything of a server as one tar stream (`GET /v1/servers/:id/export`): manifest.json, grants.json, every
   * file (server-side decrypted, client-side as its envelope) and the access log with receipts. The body is the
   * archive as it streams: a failure midway ends it before its end-of-archive blocks.
   */
  async exportArchive(serverId: string, options: { signal?: AbortSignal } = {}): Promise<Response> {
    return this.http.request('GET', `/v1/servers/${enc(serverId)}/export`, { signal: options.signal });
  }

  async deleteServer(serverId: string): Promise<void> {
    await unwrap(this.http.api.DELETE('/v1/servers/{id}', { params: { path: { id: serverId } } }));
  }

  // ── files ────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Uploads from bytes, a string, a Blob/File, a web stream or a Node Readable, streamed (in Node) with
   * progress. `clientSide: true` encrypts here to the server's key first (the gateway never sees plaintext).
   */
  async upload(serverId: string, source: ByteSource, options: UploadOptions): Promise<HearthFile> {
    const total = knownSize(source);
    let body: AsyncIterable<Uint8Array>;
    let contentType: string;
    let read = 0;
    const report = (bytes: number) => options.onProgress?.({ bytes, total });
    if (options.clientSide) {
      const server = await this.getServer(serverId);
      body = encryptForServer(server, source, { ...options.envelope, onProgress: report });
      contentType = ENVELOPE_CONTENT_TYPE;
    } else {
      body = (async function* counted() {
        for await (const piece of iterateBytes(source)) {
          read += piece.byteLength;
          report(read);
          yield piece;
        }
      })();
      contentType = options.contentType ?? 'application/octet-stream';
    }
    const init: RequestInit & { duplex?: 'half' } = {
      headers: { 'content-type': contentType },
      signal: options.signal,
    };
    if (canStreamRequests()) {
      const iterator = body[Symbol.asyncIterator]();
      init.body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const next = (await iterator.next()) as IteratorResult<Uint8Array, unknown>;
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
        async cancel() {
          await iterator.return?.();
        },
      });
      init.duplex = 'half';
    } else {
      const parts: Uint8Array<ArrayBuffer>[] = [];
      for await (const part of body) parts.push(asBufferSource(part));
      init.body = new Blob(parts);
    }
    // A streamed body cannot be replayed: uploads are not retried.
    const res = await this.http.request(
      'POST',
      `/v1/servers/${enc(serverId)}/files?name=${enc(options.name)}`,
      init,
      { retry: !canStreamRequests() },
    );
    if (total !== undefined) report(total);
    return (await res.json()) as HearthFile;
  }

  async listFiles(serverId: string, options: ListOptions = {}): Promise<Page<HearthFile>> {
    return this.json(await this.http.request('GET', `/v1/servers/${enc(serverId)}/files${query(options)}`));
  }

  files(serverId: string): AsyncGenerator<HearthFile> {
    return paginate((cursor) => this.listFiles(serverId, { limit: 200, cursor }));
  }

  async getFile(serverId: string, fileId: string): Promise<HearthFile> {
    return this.json(await this.http.request('GET', `/v1/servers/${enc(serverId)}/files/${enc(fileId)}`));
  }

  /** The file's bytes (decrypted by the gateway for server-side files), as a web stream. */
  async download(serverId: string, fileId: string): Promise<Response> {
    return this.http.request('GET', `/v1/servers/${enc(serverId)}/files/${enc(fileId)}/content`);
  }

  async deleteFile(serverId: string, fileId: string): Promise<void> {
    await this.http.request('DELETE', `/v1/servers/${enc(serverId)}/files/${enc(fileId)}`);
  }

  // ── grants ───────────────────────────────────────────────────────────────────────────────────────────────

  /** The EIP-712 typed data of a grant, to sign as is. */
  async prepareGrant(serverId: string, input: GrantInput): Promise<TypedData> {
    const body = {
      ...input,
      expiresAt: input.expiresAt instanceof Date ? input.expiresAt.toISOString() : input.expiresAt,
    };
    const { typedData } = await unwrap(
      this.http.api.POST('/v1/servers/{id}/grants/typed-data', { params: { path: { id: serverId } }, body }),
    );
    return typedData;
  }

  /** Relays owner-signed grant typed data; resolves once mined. */
  async relayGrant(
    serverId: string,
    typedData: TypedData,
    signature: string,
  ): Promise<{ grantId: string; txHash: string }> {
    return this.json(
      await this.http.request(
        'POST',
        `/v1/servers/${enc(serverId)}/grants`,
        jsonInit({ typedData, signature }),
      ),
    );
  }

  /** Prepare, sign (the session's wallet, or `signer`), relay. */
  async grant(
    serverId: string,
    input: GrantInput,
    signer?: HearthSigner,
  ): Promise<{ grantId: string; txHash: string }> {
    const typedData = await this.prepareGrant(serverId, input);
    const signature = await (
      await this.signerFor(signer)
    ).signTypedData(typedData as unknown as Record<string, unknown>);
    return this.relayGrant(serverId, typedData, signature);
  }

  /** Revokes a grant: its revoke typed data, signed, relayed; effective from the next block. */
  async revokeGrant(
    serverId: string,
    grantId: string,
    signer?: HearthSigner,
  ): Promise<{ grantId: string; txHash: string }> {
    const base = `/v1/servers/${enc(serverId)}/grants/${enc(grantId)}/revoke`;
    const { typedData } = await this.json<{ typedData: TypedData }>(
      await this.http.request('POST', `${base}/typed-data`),
    );
    const signature = await (
      await this.signerFor(signer)
    ).signTypedData(typedData as unknown as Record<string, unknown>);
    return this.json(await this.http.request('POST', base, jsonInit({ typedData, signature })));
  }

  async listGrants(serverId: string, options: ListOptions = {}): Promise<Page<Grant>> {
    return this.json(await this.http.request('GET', `/v1/servers/${enc(serverId)}/grants${query(options)}`));
  }

  grants(serverId: string): AsyncGenerator<Grant> {
    return paginate((cursor) => this.listGrants(serverId, { limit: 200, cursor }));
  }

  async getGrant(serverId: string, grantId: string): Promise<Grant> {
    return this.json(await this.http.request('GET', `/v1/servers/${enc(serverId)}/grants/${enc(grantId)}`));
  }

  // ── API keys ─────────────────────────────────────────────────────────────────────────────────────────────

  async createApiKey(
    serverId: string,
    input: {
      name: string;
      appAddress: string;
      operations?: string[];
      origins?: string[];
      ratePerMinute?: number;
    },
  ): Promise<CreatedApiKey> {
    return this.json(
      await this.http.request('POST', `/v1/servers/${enc(serverId)}/api-keys`, jsonInit(input)),
    );
  }

  async listApiKeys(serverId: string, options: ListOptions = {}): Promise<Page<ApiKey>> {
    return this.json(
      await this.http.request('GET', `/v1/servers/${enc(serverId)}/api-keys${query(options)}`),
    );
  }

  /** A new secret for the key; the previous one keeps working for the grace period. */
  /** A new secret for the same key id (shown once); the previous one works until `previousKeyExpiresAt`. */
  async rotateApiKey(
    serverId: string,
    keyId: string,
  ): Promise<{ id: string; key: string; previousKeyExpiresAt: string | null }> {
    return this.json(
      await this.http.request('POST', `/v1/servers/${enc(serverId)}/api-keys/${enc(keyId)}/rotate`),
    );
  }

  async revokeApiKey(serverId: string, keyId: string): Promise<void> {
    await this.http.request('DELETE', `/v1/servers/${enc(serverId)}/api-keys/${enc(keyId)}`);
  }

  // ── Data Portability scopes ─────────────────────────────────────────────────────────────────────────────

  /** The server's Data Portability scopes and whether builders holding a grant may read each raw. */
  async dataPortabilityScopes(serverId: string): Promise<DataPortabilityScope[]> {
    const body = await this.json<{ items: DataPortabilityScope[] }>(
      await this.http.request('GET', `/v1/servers/${enc(serverId)}/data-portability/scopes`),
    );
    return body.items;
  }

  /** Lets builders holding a grant read `scope` raw (`true`), or stops them (`false`, the default). */
  async setScopeReadable(
    serverId: string,
    scope: string,
    readable: boolean,
  ): Promise<{ scope: string; readable: boolean; updatedAt: string }> {
    return this.json(
      await this.http.request(
        'PUT',
        `/v1/servers/${enc(serverId)}/data-portability/scopes/${enc(scope)}`,
        jsonInit({ readable }),
      ),
    );
  }

  // ── access log, usage ────────────────────────────────────────────────────────────────────────────────────

  async accessLogPage(
    serverId: string,
    options: ListOptions & Record<string, string | number | undefined> = {},
  ): Promise<Page<AccessLogEntry>> {
    return this.json(
      await this.http.request('GET', `/v1/servers/${enc(serverId)}/access-log${query(options)}`),
    );
  }

  /** One page of the server's events, newest first (`type` narrows it to one event type). */
  async eventsPage(
    serverId: string,
    options: ListOptions & { type?: string } = {},
  ): Promise<Page<HearthEvent>> {
    return this.json(await this.http.request('GET', `/v1/servers/${enc(serverId)}/events${query(options)}`));
  }

  /** Every event of the server, newest first, fetched a page at a time as the iteration goes. */
  events(serverId: string, filters: { type?: string } = {}): AsyncGenerator<HearthEvent> {
    return paginate((cursor) => this.eventsPage(serverId, { ...filters, limit: 200, cursor }));
  }

  /** The server's webhooks: `create` answers the signing secret, once. */
  readonly webhooks = {
    create: async (serverId: string, input: { url: string; events?: string[] }): Promise<CreatedWebhook> =>
      this.json(await this.http.request('POST', `/v1/servers/${enc(serverId)}/webhooks`, jsonInit(input))),
    list: async (serverId: string, options: ListOptions = {}): Promise<Page<Webhook>> =>
      this.json(await this.http.request('GET', `/v1/servers/${enc(serverId)}/webhooks${query(options)}`)),
    delete: async (serverId: string, webhookId: string): Promise<void> => {
      await this.http.request('DELETE', `/v1/servers/${enc(serverId)}/webhooks/${enc(webhookId)}`);
    },
    deliveries: async (
      serverId: string,
      webhookId: string,
      options: ListOptions = {},
    ): Promise<Page<WebhookDelivery>> =>
      this.json(
        await this.http.request(
          'GET',
          `/v1/servers/${enc(serverId)}/webhooks/${enc(webhookId)}/deliveries${query(options)}`,
        ),
      ),
  };

  /** Every access-log row, newest first, fetched a page at a time as the iteration goes. */
  accessLog(
    serverId: string,
    filters: Record<string, string | undefined> = {},
  ): AsyncGenerator<AccessLogEntry> {
    return paginate((cursor) => this.accessLogPage(serverId, { ...filters, limit: 200, cursor }));
  }

  async usage(serverId: string, range: { from?: string; to?: string } = {}): Promise<UsageRow[]> {
    const out: UsageRow[] = [];
    for await (const row of paginate<UsageRow>(async (cursor) =>
      this.json(
        await this.http.request('GET', `/v1/servers/${enc(serverId)}/usage${query({ ...range, cursor })}`),
      ),
    )) {
      out.push(row);
    }
    return out;
  }

  // ── collectives ──────────────────────────────────────────────────────────────────────────────────────────

  async createCollective(input: { name: string; k?: number }): Promise<Server> {
    return this.json(
      await this.http.request('POST', '/v1/servers', jsonInit({ kind: 'collective', ...input })),
    );
  }

  async addMember(serverId: string, address: string, role: 'admin' | 'member' = 'member'): Promise<Member> {
    return this.json(
      await this.http.request('POST', `/v1/servers/${enc(serverId)}/members`, jsonInit({ address, role })),
    );
  }

  members(serverId: string): AsyncGenerator<Member> {
    return paginate(async (cursor) =>
      this.json(
        await this.http.request(
          'GET',
          `/v1/servers/${enc(serverId)}/members${query({ limit: 200, cursor })}`,
        ),
      ),
    );
  }

  async removeMember(serverId: string, address: string): Promise<void> {
    await this.http.request('DELETE', `/v1/servers/${enc(serverId)}/members/${enc(address)}`);
  }

  /** Adds or removes an app on a collective's Whitelist contract (signed by the creator, relayed). */
  async whitelist(
    serverId: string,
    app: string,
    action: 'add' | 'remove',
    signer?: HearthSigner,
  ): Promise<Record<string, unknown>> {
    const base = `/v1/servers/${enc(serverId)}/whitelist`;
    const { typedData } = await this.json<{ typedData: TypedData }>(
      await this.http.request('POST', `${base}/typed-data`, jsonInit({ app, action })),
    );
    const signature = await (
      await this.signerFor(signer)
    ).signTypedData(typedData as unknown as Record<string, unknown>);
    return this.json(await this.http.request('POST', base, jsonInit({ typedData, signature })));
  }

  private async json<T>(res: Response): Promise<T> {
    if (!res.ok) throw await HearthProblemError.fromResponse(res);
    return (await res.json()) as T;
  }
}

export function jsonInit(body: unknown): RequestInit {
  return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export function query(params: object): string {
  const entries = Object.entries(params as Record<string, unknown>).filter(
    ([, v]) => v !== undefined && v !== null && v !== '',
  );
  return entries.length
    ? `?${new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v as string | number)])).toString()}`
    : '';
}
