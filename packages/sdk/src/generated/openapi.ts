// Generated from the gateway's OpenAPI document by `npm run sdk:types` (openapi-typescript). Do not edit.
export interface paths {
  '/health/live': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The process is up */
    get: operations['HealthController_live'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/health/ready': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** database, redis, chain and keyManager answer (redis says what it persists, and warns of nothing) */
    get: operations['HealthController_ready'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mcp': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** No standalone event stream (stateless MCP): 405 */
    get: operations['McpController_openStream'];
    put?: never;
    /**
     * MCP endpoint of the API key's server
     * @description Model Context Protocol (streamable HTTP, stateless: no session id, no standalone event stream; every POST carries JSON-RPC and is answered as JSON). Tools are the operation catalog, run under the app's grants; resources are metadata (hearth://server, hearth://grants, hearth://files). Authenticated by the API key, or on /v1/servers/:serverId/mcp by a Web3Signed header of the app's wallet (the Data Portability Protocol's), which runs under that app's API key on the server.
     */
    post: operations['McpController_post'];
    /** No session to end (stateless MCP): 405 */
    delete: operations['McpController_endSession'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/access-requests': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * File an app-signed access request for the owner to approve or deny
     * @description The signature must recover typedData.message.app (400 signature_mismatch); a nonce used before is 409 access_request_replayed.
     */
    post: operations['AccessRequestsController_submit'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/access-requests/{requestId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The request's status and content (never a secret); the id is the capability */
    get: operations['AccessRequestsController_status'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/access-requests/{requestId}/key': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * The approved request's API key, once, to the wallet that filed the request
     * @description A second claim is 409 already_claimed; a claim signed by another wallet 400 signature_mismatch.
     */
    post: operations['AccessRequestsController_claim'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/access-requests/{requestId}/key/typed-data': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** EIP-712 ClaimAccessKey typed data for the requesting wallet to sign (10 minutes) */
    post: operations['AccessRequestsController_claimTypedData'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/access-requests/typed-data': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * EIP-712 AccessRequest typed data for the app's wallet to sign (fresh nonce, deadline 1 h ahead)
     * @description server: a server id or the owner's wallet address (their personal server). Sign the typed data as is and POST it with the signature to /v1/access-requests.
     */
    post: operations['AccessRequestsController_typedData'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/auth/logout': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Revoke the session token used for this request */
    post: operations['AuthController_logout'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/auth/nonce': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A single-use SIWE nonce (5 minutes) and the domain and chain id the message must carry */
    get: operations['AuthController_nonce'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/auth/siwe': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Sign in with an EIP-4361 message and its signature; the first sign-in provisions the personal server */
    post: operations['AuthController_signIn'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/files': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Files this app may name: those in its active grants (all, with an allFiles grant), newest first
     * @description Ids, sizes, content types and dates; never names. A collective lists none (apps name datasets).
     */
    get: operations['AppDiscoveryController_listFiles'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/grants': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Grants on this key's server naming this key's app, as the chain has them now */
    get: operations['AppDiscoveryController_listGrants'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/operations': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** This API key's operations, newest first (without results: GET /v1/operations/:id has them) */
    get: operations['OperationsController_list'];
    put?: never;
    /**
     * Run an operation over granted files
     * @description Answers 202 at once; the result comes later (GET or the event stream). With `Prefer: wait=N` (N ≤ 60 s) it answers 200 with the finished operation, result and receipt included, if it ends within N seconds, else 202 as usual.
     */
    post: operations['OperationsController_create'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/operations/{operationId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Status, and when done the result and the server-signed receipt */
    get: operations['OperationsController_get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/operations/{operationId}/cancel': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Cancel a queued operation (409 once it runs) */
    post: operations['OperationsController_cancel'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/operations/{operationId}/events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Server-sent events: queued, running, then succeeded | failed | denied | cancelled */
    get: operations['OperationsController_events'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/operations/catalog': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Operations this deployment runs: name, version, engine, parameter schema, limits */
    get: operations['OperationsController_catalog'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** My servers: the ones I own and the collectives I am a member of */
    get: operations['ServersController_list'];
    put?: never;
    /** Create a collective: a shared server with its own key, identity and Whitelist contract (owned by you); you are its first admin */
    post: operations['CollectivesController_create'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A server: its identity (address, public key), owner and policy */
    get: operations['ServersController_get'];
    put?: never;
    post?: never;
    /** Delete a server (owner only): destroys its key first (crypto-shredding), then its rows */
    delete: operations['ServersController_delete'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/access-log': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Every decryption of data and every refused attempt, newest first, with its receipt
     * @description Owners and a collective's admins see every row; a collective's member sees the rows touching their contributions.
     */
    get: operations['AccessLogController_accessLog'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/access-requests': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Apps' access requests to this server, oldest first */
    get: operations['ServerAccessRequestsController_list'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/access-requests/{requestId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One access request of this server */
    get: operations['ServerAccessRequestsController_get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/access-requests/{requestId}/approve': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** The grant typed data for what the app asked (optionally narrowed) for the owner to sign */
    post: operations['ServerAccessRequestsController_approve'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/access-requests/{requestId}/deny': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Deny the request */
    post: operations['ServerAccessRequestsController_deny'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/access-requests/{requestId}/grant': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Relay the owner-signed grant, approve the request and create the app's API key (no secret here) */
    post: operations['ServerAccessRequestsController_grant'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/api-keys': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A server's API keys (no secrets) */
    get: operations['ApiKeysController_list'];
    put?: never;
    /** Create an API key for an app; the secret is shown this once */
    post: operations['ApiKeysController_create'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/api-keys/{keyId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Revoke an API key (it stops working at once) */
    delete: operations['ApiKeysController_revoke'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/api-keys/{keyId}/rotate': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** New secret for the same key id; the old secret keeps working for API_KEY_ROTATION_GRACE_SECONDS (default 24 h) */
    post: operations['ApiKeysController_rotate'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/data-portability/scopes': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The server's Data Portability scopes and whether builders may read each raw */
    get: operations['DataPortabilityScopesController_list'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/data-portability/scopes/{scope}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /** Let builders holding a grant read a scope raw, or stop them (readable: false, the default) */
    put: operations['DataPortabilityScopesController_set'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/datasets': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The collective's datasets, newest version first (counts only) */
    get: operations['DatasetsController_list'];
    put?: never;
    /** Publish the current contribution set as the next dataset version (admins); it never changes */
    post: operations['DatasetsController_publish'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The server's events, newest first: ids and codes only, never data */
    get: operations['EventsController_list'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/export': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Everything of the server as one tar stream: manifest, grants, every file (client envelopes as sent), the access log with receipts
     * @description Owner only. Server-side files are decrypted (each read is logged); client-side files are their envelopes. A failure after the first byte cuts the archive short (no end-of-archive blocks), never a wrong file.
     */
    get: operations['ExportController_export'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/files': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Files' metadata, newest first (on a collective everyone, admins included, sees only their own) */
    get: operations['FilesController_list'];
    put?: never;
    /**
     * Upload a file: its bytes as the body (encrypted on arrival), or a client-side envelope stored as is
     * @description With Content-Type application/vnd.hearth.envelope the body must be an envelope encrypted to this server's public key (byte format: libs/crypto/ENVELOPE.md); any other type is encrypted by the server.
     */
    post: operations['FilesController_upload'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/files/{fileId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A file's metadata */
    get: operations['FilesController_get'];
    put?: never;
    post?: never;
    /** Delete a file and its ciphertext */
    delete: operations['FilesController_remove'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/files/{fileId}/content': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The bytes (a personal server's owner; on a collective its contributing member only), streamed; logged in the access log */
    get: operations['FileContentController_content'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/grants': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** This server's grants by its owner, as the chain has them now (grant id order) */
    get: operations['GrantsController_list'];
    put?: never;
    /**
     * Relay an owner-signed grant to the permission contract (the platform pays gas); answers once mined
     * @description Checked before any transaction: grantor is the owner (403), serverId is this server, chain id and verifying contract, deadline, nonce, files and operations, and that the signature recovers the grantor (400 signature_mismatch).
     */
    post: operations['GrantsController_create'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/grants/{grantId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One grant of this server, as the chain has it now */
    get: operations['GrantsController_get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/grants/{grantId}/revoke': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Relay an owner-signed revocation; effective from the next block, answers once mined */
    post: operations['GrantsController_revoke'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/grants/{grantId}/revoke/typed-data': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** EIP-712 typed data of a revocation for the owner to sign */
    post: operations['GrantsController_revokeTypedData'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/grants/typed-data': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * EIP-712 typed data of a grant for the owner to sign (current nonce, a deadline one hour ahead)
     * @description Give fileIds (files of this server) or allFiles: true. operations are names from GET /v1/operations/catalog; expiresAt (ISO 8601) is optional, none means no expiry. Sign the returned typedData as is (viem signTypedData / eth_signTypedData_v4) and POST it with the signature to /v1/servers/{id}/grants.
     */
    post: operations['GrantsController_typedData'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/members': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The collective's members, oldest first */
    get: operations['MembersController_list'];
    put?: never;
    /** Admit a member (admins only); the member gets a key of their own for their contributions */
    post: operations['MembersController_add'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/members/{address}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Remove a member (admins; or a member leaving): their key is destroyed first (crypto-shredding), then their files */
    delete: operations['MembersController_remove'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/policy': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /**
     * Set the server's permission policy: grants in DataPermissions, or your own IVanaDataPermission contract
     * @description {kind: "contract", address} must hold a contract answering owner(), authorized(address) and authorized(address,uint256) (400 policy_invalid otherwise); the worker then asks authorized(app, fileId) for every file. {kind: "grants"} resets.
     */
    put: operations['PolicyController_put'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/privacy': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** ε per aggregate, the total per app, and what each app has spent (admins) */
    get: operations['PrivacyController_get'];
    /** Turn differential privacy on (ε per aggregate, total ε per app) or off (nulls) */
    put: operations['PrivacyController_set'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/usage': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Operations, compute time and input bytes per API key per UTC day, and where the owner stands against each quota */
    get: operations['AccessLogController_usage'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/webhooks': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The server's webhooks (no secrets) */
    get: operations['EventsController_listWebhooks'];
    put?: never;
    /** Add a webhook; its signing secret is shown this once */
    post: operations['EventsController_create'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/webhooks/{webhookId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Delete a webhook and its delivery log */
    delete: operations['EventsController_remove'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/webhooks/{webhookId}/deliveries': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A webhook's delivery log, newest first: one row per attempt */
    get: operations['EventsController_deliveries'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/whitelist': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Relay an owner-signed whitelist change to the collective's Whitelist contract (admins) */
    post: operations['WhitelistController_relay'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{id}/whitelist/typed-data': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** EIP-712 typed data adding or removing an app, for the Whitelist owner to sign (admins) */
    post: operations['WhitelistController_typedData'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/servers/{serverId}/mcp': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** No standalone event stream (stateless MCP): 405 */
    get: operations['McpController_openServerStream'];
    put?: never;
    /**
     * MCP endpoint of one server, named in the path
     * @description Model Context Protocol (streamable HTTP, stateless: no session id, no standalone event stream; every POST carries JSON-RPC and is answered as JSON). Tools are the operation catalog, run under the app's grants; resources are metadata (hearth://server, hearth://grants, hearth://files). Authenticated by the API key, or on /v1/servers/:serverId/mcp by a Web3Signed header of the app's wallet (the Data Portability Protocol's), which runs under that app's API key on the server.
     */
    post: operations['McpController_postForServer'];
    /** No session to end (stateless MCP): 405 */
    delete: operations['McpController_endServerSession'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/whoami': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The API key making the request: its id, server and app address, and the server's own address and public key
     * @description serverAddress is the address every receipt of this server must recover to.
     */
    get: operations['WhoamiController_whoami'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    /**
     * @description The `code` of a problem document.
     * @enum {string}
     */
    ErrorCode:
      | 'validation_failed'
      | 'malformed_json'
      | 'unsupported_media_type'
      | 'unsupported_content_encoding'
      | 'payload_too_large'
      | 'not_found'
      | 'route_not_found'
      | 'method_not_allowed'
      | 'conflict'
      | 'internal_error'
      | 'service_unavailable'
      | 'database_unavailable'
      | 'queue_unavailable'
      | 'key_manager_unavailable'
      | 'unauthorized'
      | 'invalid_session'
      | 'invalid_siwe_message'
      | 'invalid_signature'
      | 'nonce_invalid'
      | 'message_expired'
      | 'wrong_domain'
      | 'wrong_chain'
      | 'forbidden'
      | 'invalid_api_key'
      | 'api_key_revoked'
      | 'app_has_no_api_key'
      | 'rate_limited'
      | 'quota_exceeded'
      | 'origin_not_allowed'
      | 'operation_not_allowed'
      | 'operation_not_allowed_for_server_kind'
      | 'ciphertext_invalid'
      | 'envelope_wrong_recipient'
      | 'key_destroyed'
      | 'chain_unavailable'
      | 'grant_invalid'
      | 'grant_not_found'
      | 'signature_mismatch'
      | 'policy_invalid'
      | 'unknown_operation'
      | 'invalid_parameters'
      | 'idempotency_conflict'
      | 'operation_not_cancellable'
      | 'permission_denied'
      | 'input_too_large'
      | 'execution_failed'
      | 'member_exists'
      | 'not_a_member'
      | 'below_k_threshold'
      | 'file_selection_not_allowed'
      | 'privacy_budget_exhausted'
      | 'access_request_replayed'
      | 'access_request_not_supported'
      | 'access_request_not_pending'
      | 'access_request_not_approved'
      | 'access_request_expired'
      | 'already_claimed'
      | 'grant_ambiguous'
      | 'webhook_url_not_allowed'
      | 'dp_auth_missing'
      | 'dp_auth_malformed'
      | 'dp_signature_invalid'
      | 'dp_wrong_audience'
      | 'dp_request_mismatch'
      | 'dp_body_hash_mismatch'
      | 'dp_auth_expired'
      | 'dp_replayed'
      | 'dp_builder_unregistered'
      | 'dp_not_owner'
      | 'dp_grant_required'
      | 'dp_grant_not_found'
      | 'dp_grant_wrong_grantee'
      | 'dp_grant_wrong_owner'
      | 'dp_grant_revoked'
      | 'dp_grant_expired'
      | 'dp_scope_not_granted'
      | 'dp_scope_not_readable'
      | 'dp_scope_invalid'
      | 'dp_data_not_found'
      | 'dp_schema_not_found'
      | 'dp_schema_mismatch'
      | 'dp_registry_unavailable'
      | 'dp_gateway_unavailable';
    /**
     * @description The `error.code` of an operation that did not succeed.
     * @enum {string}
     */
    OperationErrorCode:
      | 'cancelled'
      | 'file_not_found'
      | 'operation_not_allowed'
      | 'timeout'
      | 'execution_failed'
      | 'identity_mismatch'
      | 'sandbox_memory_exceeded'
      | 'sandbox_time_exceeded'
      | 'retry_budget_exhausted'
      | 'lost_in_queue'
      | 'deadline_exceeded'
      | 'kms_unavailable'
      | 'key_destroyed'
      | 'ciphertext_invalid'
      | 'grant_not_found'
      | 'grant_revoked'
      | 'grant_expired'
      | 'wrong_grantee'
      | 'wrong_server'
      | 'operation_not_granted'
      | 'file_not_granted'
      | 'not_authorized'
      | 'chain_unavailable'
      | 'unknown_operation'
      | 'invalid_parameters'
      | 'unsupported_content_type'
      | 'invalid_encoding'
      | 'no_input'
      | 'input_too_large'
      | 'output_too_large'
      | 'missing_contributor'
      | 'below_k_threshold'
      | 'privacy_budget_exhausted'
      | 'file_selection_not_allowed'
      | 'dataset_retired'
      | 'untrusted_endpoint'
      | 'engine_unavailable'
      | 'engine_failed'
      | 'aborted';
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  HealthController_live: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  HealthController_ready: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  McpController_openStream: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  McpController_post: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A JSON-RPC response (202 for a notification) */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  McpController_endSession: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  AccessRequestsController_submit: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /** @description 65-byte 0x-prefixed hex signature by the app's wallet */
          signature: string;
          typedData: Record<string, never>;
        };
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** Format: date-time */
            expiresAt: string;
            requestId: string;
            /** @enum {string} */
            status: 'pending';
          };
        };
      };
    };
  };
  AccessRequestsController_status: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Access request id (arq_…) */
        requestId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            allFiles: boolean;
            /** @description EIP-55 address of the app's wallet (the signer) */
            appAddress: string;
            appName: string;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            decidedAt: string | null;
            /**
             * Format: date-time
             * @description when a pending request lapses
             */
            expiresAt: string;
            fileIds: string[];
            /** Format: date-time */
            grantExpiresAt: string | null;
            grantId: string | null;
            keyClaimed: boolean;
            keyId: string | null;
            operations: string[];
            origins: string[] | null;
            purpose: string;
            /** @example arq_0197a1b2c3d47e8f9a0b1c2d3e4f5a6b */
            requestId: string;
            returnUrl: string | null;
            /** @description EIP-55 address of the server's identity key */
            serverAddress: string;
            serverId: string;
            /** @enum {string} */
            status: 'pending' | 'approved' | 'denied' | 'expired';
          };
        };
      };
    };
  };
  AccessRequestsController_claim: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Access request id (arq_…) */
        requestId: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /** @description 65-byte 0x-prefixed hex signature by the app's wallet */
          signature: string;
          typedData: Record<string, never>;
        };
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            grantId: string;
            /** @description the secret (hth_live_…): shown this once */
            key: string;
            keyId: string;
            serverAddress: string;
            serverId: string;
          };
        };
      };
    };
  };
  AccessRequestsController_claimTypedData: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Access request id (arq_…) */
        requestId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @description EIP-712 {domain: {name: "Hearth", version: "1", chainId}, types, primaryType, message}; uints as decimal strings. Sign as is. */
            typedData: {
              domain: Record<string, never>;
              message: Record<string, never>;
              primaryType: string;
              types: Record<string, never>;
            };
          };
        };
      };
    };
  };
  AccessRequestsController_typedData: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          allFiles?: boolean;
          appAddress: string;
          appName?: string;
          /** Format: date-time */
          expiresAt?: string;
          fileIds?: string[];
          operations: string[];
          origins?: string[];
          purpose: string;
          returnUrl?: string;
          server: string;
        };
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @description EIP-712 {domain: {name: "Hearth", version: "1", chainId}, types, primaryType, message}; uints as decimal strings. Sign as is. */
            typedData: {
              domain: Record<string, never>;
              message: Record<string, never>;
              primaryType: string;
              types: Record<string, never>;
            };
          };
        };
      };
    };
  };
  AuthController_logout: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  AuthController_nonce: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            chainId?: number;
            domain?: string;
            nonce?: string;
            /** @description an origin the message uri may have */
            uri?: string;
          };
        };
      };
    };
  };
  AuthController_signIn: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          message: string;
          signature: string;
        };
      };
    };
    responses: {
      /** @description An opaque bearer session token */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            address?: string;
            /** Format: date-time */
            expiresAt?: string;
            token?: string;
          };
        };
      };
    };
  };
  AppDiscoveryController_listFiles: {
    parameters: {
      query?: {
        cursor?: string;
        limit?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: {
              contentType: string;
              /** Format: date-time */
              createdAt: string;
              id: string;
              /** @description bytes (the envelope size for client-encrypted files) */
              size: number;
            }[];
            nextCursor?: string | null;
          };
        };
      };
    };
  };
  AppDiscoveryController_listGrants: {
    parameters: {
      query?: {
        /** @description the last grantId seen */
        cursor?: string;
        limit?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: {
              allFiles: boolean;
              datasetIds?: string[];
              /** Format: date-time */
              expiresAt: string | null;
              fileIds: string[];
              /** @description uint256 as a decimal string */
              grantId: string;
              operations: string[];
              /** @enum {string} */
              status: 'active' | 'revoked' | 'expired';
            }[];
            nextCursor?: string | null;
          };
        };
      };
    };
  };
  OperationsController_list: {
    parameters: {
      query?: {
        cursor?: string;
        limit?: number;
        status?: 'queued' | 'running' | 'succeeded' | 'failed' | 'denied' | 'cancelled';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  OperationsController_create: {
    parameters: {
      query?: never;
      header?: {
        /** @description Same key and body → the same operation */
        'Idempotency-Key'?: string;
        /** @description wait=N: wait up to N seconds for the outcome */
        Prefer?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          datasetId?: string;
          fileIds?: string[];
          grantId?: string;
          operation: string;
          /** @default {} */
          parameters?: {
            [key: string]: unknown;
          };
        };
      };
    };
    responses: {
      /** @description Ended within Prefer: wait */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error?: {
              code?: components['schemas']['OperationErrorCode'];
              detail?: string;
            };
            fileIds?: string[];
            grantId?: string | null;
            id?: string;
            operation?: string;
            operationVersion?: string;
            /** @description EIP-712 receipt signed by the server: {typedData, signature, signer}; verify with viem verifyTypedData */
            receipt?: Record<string, never>;
            /** @description The output (succeeded, until the result expires) */
            result?: unknown;
            serverId?: string;
            /** @enum {string} */
            status?: 'queued' | 'running' | 'succeeded' | 'failed' | 'denied' | 'cancelled';
          };
        };
      };
      /** @description Queued (or still running) */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error?: {
              code?: components['schemas']['OperationErrorCode'];
              detail?: string;
            };
            fileIds?: string[];
            grantId?: string | null;
            id?: string;
            operation?: string;
            operationVersion?: string;
            /** @description EIP-712 receipt signed by the server: {typedData, signature, signer}; verify with viem verifyTypedData */
            receipt?: Record<string, never>;
            /** @description The output (succeeded, until the result expires) */
            result?: unknown;
            serverId?: string;
            /** @enum {string} */
            status?: 'queued' | 'running' | 'succeeded' | 'failed' | 'denied' | 'cancelled';
          };
        };
      };
    };
  };
  OperationsController_get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description op_… */
        operationId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error?: {
              code?: components['schemas']['OperationErrorCode'];
              detail?: string;
            };
            fileIds?: string[];
            grantId?: string | null;
            id?: string;
            operation?: string;
            operationVersion?: string;
            /** @description EIP-712 receipt signed by the server: {typedData, signature, signer}; verify with viem verifyTypedData */
            receipt?: Record<string, never>;
            /** @description The output (succeeded, until the result expires) */
            result?: unknown;
            serverId?: string;
            /** @enum {string} */
            status?: 'queued' | 'running' | 'succeeded' | 'failed' | 'denied' | 'cancelled';
          };
        };
      };
    };
  };
  OperationsController_cancel: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description op_… */
        operationId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  OperationsController_events: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description op_… */
        operationId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  OperationsController_catalog: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  ServersController_list: {
    parameters: {
      query?: {
        cursor?: string;
        limit?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: {
              /** @description EIP-55 address of the server's secp256k1 identity */
              address: string;
              /** Format: date-time */
              createdAt: string;
              /** @example srv_0197a1b2c3d47e8f9a0b1c2d3e4f5a6b */
              id: string;
              /** @enum {string} */
              kind: 'personal' | 'collective';
              name: string;
              /** @description EIP-55 address of the owner */
              owner: string;
              policy: {
                address?: string;
                /** @enum {string} */
                kind: 'grants' | 'contract' | 'whitelist';
              };
              /** @description Uncompressed secp256k1 public key (0x04…): encrypt to it */
              publicKey: string;
            }[];
            nextCursor?: string | null;
          };
        };
      };
    };
  };
  CollectivesController_create: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          k?: number;
          /** @enum {string} */
          kind: 'collective' | 'personal';
          name: string;
        };
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @description EIP-55 address of the server's secp256k1 identity */
            address: string;
            /** Format: date-time */
            createdAt: string;
            /** @example srv_0197a1b2c3d47e8f9a0b1c2d3e4f5a6b */
            id: string;
            /** @enum {string} */
            kind: 'personal' | 'collective';
            name: string;
            /** @description EIP-55 address of the owner */
            owner: string;
            policy: {
              address?: string;
              /** @enum {string} */
              kind: 'grants' | 'contract' | 'whitelist';
            };
            /** @description Uncompressed secp256k1 public key (0x04…): encrypt to it */
            publicKey: string;
          };
        };
      };
    };
  };
  ServersController_get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @description EIP-55 address of the server's secp256k1 identity */
            address: string;
            /** Format: date-time */
            createdAt: string;
            /** @example srv_0197a1b2c3d47e8f9a0b1c2d3e4f5a6b */
            id: string;
            /** @enum {string} */
            kind: 'personal' | 'collective';
            name: string;
            /** @description EIP-55 address of the owner */
            owner: string;
            policy: {
              address?: string;
              /** @enum {string} */
              kind: 'grants' | 'contract' | 'whitelist';
            };
            /** @description Uncompressed secp256k1 public key (0x04…): encrypt to it */
            publicKey: string;
          };
        };
      };
    };
  };
  ServersController_delete: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  AccessLogController_accessLog: {
    parameters: {
      query?: {
        cursor?: string;
        limit?: number;
        /** @description denied: refused attempts only; allowed: reads and operations that ran */
        outcome?: 'denied' | 'allowed';
      };
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  ServerAccessRequestsController_list: {
    parameters: {
      query?: {
        cursor?: string;
        limit?: number;
      };
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: {
              allFiles: boolean;
              /** @description EIP-55 address of the app's wallet (the signer) */
              appAddress: string;
              appName: string;
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              decidedAt: string | null;
              /**
               * Format: date-time
               * @description when a pending request lapses
               */
              expiresAt: string;
              fileIds: string[];
              /** Format: date-time */
              grantExpiresAt: string | null;
              grantId: string | null;
              keyClaimed: boolean;
              keyId: string | null;
              operations: string[];
              origins: string[] | null;
              purpose: string;
              /** @example arq_0197a1b2c3d47e8f9a0b1c2d3e4f5a6b */
              requestId: string;
              returnUrl: string | null;
              /** @description EIP-55 address of the server's identity key */
              serverAddress: string;
              serverId: string;
              /** @enum {string} */
              status: 'pending' | 'approved' | 'denied' | 'expired';
            }[];
            nextCursor?: string | null;
          };
        };
      };
    };
  };
  ServerAccessRequestsController_get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
        /** @description Access request id (arq_…) */
        requestId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            allFiles: boolean;
            /** @description EIP-55 address of the app's wallet (the signer) */
            appAddress: string;
            appName: string;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            decidedAt: string | null;
            /**
             * Format: date-time
             * @description when a pending request lapses
             */
            expiresAt: string;
            fileIds: string[];
            /** Format: date-time */
            grantExpiresAt: string | null;
            grantId: string | null;
            keyClaimed: boolean;
            keyId: string | null;
            operations: string[];
            origins: string[] | null;
            purpose: string;
            /** @example arq_0197a1b2c3d47e8f9a0b1c2d3e4f5a6b */
            requestId: string;
            returnUrl: string | null;
            /** @description EIP-55 address of the server's identity key */
            serverAddress: string;
            serverId: string;
            /** @enum {string} */
            status: 'pending' | 'approved' | 'denied' | 'expired';
          };
        };
      };
    };
  };
  ServerAccessRequestsController_approve: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
        /** @description Access request id (arq_…) */
        requestId: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          /** Format: date-time */
          expiresAt?: string;
          fileIds?: string[];
          operations?: string[];
        };
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @description viem's {domain, types, primaryType, message}; uint fields are decimal strings. Sign it as is with viem's signTypedData (or eth_signTypedData_v4). */
            typedData: {
              domain: {
                chainId?: number;
                name?: string;
                verifyingContract?: string;
                version?: string;
              };
              message: Record<string, never>;
              /** @enum {string} */
              primaryType: 'Grant' | 'RevokeGrant';
              types: Record<string, never>;
            };
          };
        };
      };
    };
  };
  ServerAccessRequestsController_deny: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
        /** @description Access request id (arq_…) */
        requestId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {string} */
            status?: 'denied';
          };
        };
      };
    };
  };
  ServerAccessRequestsController_grant: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
        /** @description Access request id (arq_…) */
        requestId: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /** @description 65-byte 0x-prefixed hex signature by the server owner */
          signature: string;
          /** @description viem's {domain, types, primaryType, message}; uint fields are decimal strings. Sign it as is with viem's signTypedData (or eth_signTypedData_v4). */
          typedData: {
            domain: {
              chainId?: number;
              name?: string;
              verifyingContract?: string;
              version?: string;
            };
            message: Record<string, never>;
            /** @enum {string} */
            primaryType: 'Grant' | 'RevokeGrant';
            types: Record<string, never>;
          };
        };
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            grantId: string;
            keyId: string;
            txHash: string;
          };
        };
      };
    };
  };
  ApiKeysController_list: {
    parameters: {
      query?: {
        cursor?: string;
        limit?: number;
      };
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: {
              appAddress?: string;
              /** Format: date-time */
              createdAt?: string;
              /** @example key_0197a1b2c3d47e8f9a0b1c2d3e4f5a6b */
              id?: string;
              name?: string;
              operations?: string[] | null;
              origins?: string[] | null;
              /** @description First characters of the key, to tell keys apart */
              prefix?: string;
              /** Format: date-time */
              previousKeyExpiresAt?: string | null;
              ratePerMinute?: number;
              /** Format: date-time */
              revokedAt?: string | null;
              serverId?: string;
            }[];
            nextCursor?: string | null;
          };
        };
      };
    };
  };
  ApiKeysController_create: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          appAddress: string;
          name: string;
          operations?: string[];
          origins?: string[];
          ratePerMinute?: number;
        };
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            appAddress?: string;
            /** Format: date-time */
            createdAt?: string;
            /** @example key_0197a1b2c3d47e8f9a0b1c2d3e4f5a6b */
            id?: string;
            key?: string;
            name?: string;
            operations?: string[] | null;
            origins?: string[] | null;
            /** @description First characters of the key, to tell keys apart */
            prefix?: string;
            /** Format: date-time */
            previousKeyExpiresAt?: string | null;
            ratePerMinute?: number;
            /** Format: date-time */
            revokedAt?: string | null;
            serverId?: string;
          };
        };
      };
    };
  };
  ApiKeysController_revoke: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
        /** @description API key id (key_…) */
        keyId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  ApiKeysController_rotate: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
        /** @description API key id (key_…) */
        keyId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            id?: string;
            key?: string;
            /** Format: date-time */
            previousKeyExpiresAt?: string | null;
          };
        };
      };
    };
  };
  DataPortabilityScopesController_list: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: {
              /** Format: date-time */
              latestCollectedAt: string | null;
              /** @description builders holding a grant may read its raw documents */
              readable: boolean;
              /** @example instagram.profile */
              scope: string;
              versions: number;
            }[];
          };
        };
      };
    };
  };
  DataPortabilityScopesController_set: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
        /** @description Scope, e.g. instagram.profile */
        scope: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          readable: boolean;
        };
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            readable: boolean;
            scope: string;
            /** Format: date-time */
            updatedAt: string;
          };
        };
      };
    };
  };
  DatasetsController_list: {
    parameters: {
      query?: {
        cursor?: string;
        limit?: number;
      };
      header?: never;
      path: {
        /** @description Server id (srv_…) of a collective */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  DatasetsController_publish: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) of a collective */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            contributors: number;
            /** Format: date-time */
            createdAt: string;
            files: number;
            /** @example dst_0197a1b2c3d47e8f9a0b1c2d3e4f5a6b */
            id: string;
            /** @description 1, 2, 3… per collective */
            version: number;
          };
        };
      };
    };
  };
  EventsController_list: {
    parameters: {
      query?: {
        cursor?: string;
        limit?: number;
        type?:
          | 'access_request.filed'
          | 'grant.added'
          | 'grant.revoked'
          | 'grant.expired'
          | 'operation.succeeded'
          | 'operation.failed'
          | 'operation.denied'
          | 'api_key.created'
          | 'api_key.rotated'
          | 'api_key.revoked'
          | 'member.joined'
          | 'member.left'
          | 'webhook.disabled';
      };
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items: {
              /** Format: date-time */
              createdAt: string;
              data: {
                [key: string]: unknown;
              };
              id: string;
              /** @enum {string} */
              type:
                | 'access_request.filed'
                | 'grant.added'
                | 'grant.revoked'
                | 'grant.expired'
                | 'operation.succeeded'
                | 'operation.failed'
                | 'operation.denied'
                | 'api_key.created'
                | 'api_key.rotated'
                | 'api_key.revoked'
                | 'member.joined'
                | 'member.left'
                | 'webhook.disabled';
            }[];
            nextCursor: string | null;
          };
        };
      };
    };
  };
  ExportController_export: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  FilesController_list: {
    parameters: {
      query?: {
        cursor?: string;
        limit?: number;
      };
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  FilesController_upload: {
    parameters: {
      query: {
        name: unknown;
      };
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/octet-stream': string;
        'application/vnd.hearth.envelope': string;
        'text/plain': string;
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            contentType?: string;
            /** @description EIP-55 address of who uploaded it */
            contributor?: string;
            /** Format: date-time */
            createdAt?: string;
            /** @enum {string} */
            encryption?: 'server' | 'client';
            /** @example fil_0192… */
            id?: string;
            name?: string;
            /** @description plaintext bytes (server encryption) or envelope bytes (client) */
            size?: number;
          };
        };
      };
    };
  };
  FilesController_get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description fil_… */
        fileId: string;
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            contentType?: string;
            /** @description EIP-55 address of who uploaded it */
            contributor?: string;
            /** Format: date-time */
            createdAt?: string;
            /** @enum {string} */
            encryption?: 'server' | 'client';
            /** @example fil_0192… */
            id?: string;
            name?: string;
            /** @description plaintext bytes (server encryption) or envelope bytes (client) */
            size?: number;
          };
        };
      };
    };
  };
  FilesController_remove: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description fil_… */
        fileId: string;
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  FileContentController_content: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description fil_… */
        fileId: string;
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  GrantsController_list: {
    parameters: {
      query?: {
        /** @description the last grantId of the previous page */
        cursor?: string;
        limit?: number;
      };
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: {
              allFiles: boolean;
              /** @description a collective's grant: the dst_… datasets it covers (absent otherwise) */
              datasetIds?: string[];
              /** Format: date-time */
              expiresAt: string | null;
              /** @description fil_… ids (empty with allFiles) */
              fileIds: string[];
              /** @description EIP-55 address of the app's wallet */
              grantee: string;
              /**
               * @description uint256 as a decimal string
               * @example 1
               */
              grantId: string;
              operations: string[];
              /** @enum {string} */
              status: 'active' | 'revoked' | 'expired';
              /** @description transaction that added the grant */
              txHash: string | null;
            }[];
            nextCursor?: string | null;
          };
        };
      };
    };
  };
  GrantsController_create: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /** @description 65-byte 0x-prefixed hex signature by the server owner */
          signature: string;
          /** @description viem's {domain, types, primaryType, message}; uint fields are decimal strings. Sign it as is with viem's signTypedData (or eth_signTypedData_v4). */
          typedData: {
            domain: {
              chainId?: number;
              name?: string;
              verifyingContract?: string;
              version?: string;
            };
            message: Record<string, never>;
            /** @enum {string} */
            primaryType: 'Grant' | 'RevokeGrant';
            types: Record<string, never>;
          };
        };
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            grantId: string;
            txHash: string;
          };
        };
      };
    };
  };
  GrantsController_get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description On-chain grant id (uint256 as a decimal string) */
        grantId: string;
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            allFiles: boolean;
            /** @description a collective's grant: the dst_… datasets it covers (absent otherwise) */
            datasetIds?: string[];
            /** Format: date-time */
            expiresAt: string | null;
            /** @description fil_… ids (empty with allFiles) */
            fileIds: string[];
            /** @description EIP-55 address of the app's wallet */
            grantee: string;
            /**
             * @description uint256 as a decimal string
             * @example 1
             */
            grantId: string;
            operations: string[];
            /** @enum {string} */
            status: 'active' | 'revoked' | 'expired';
            /** @description transaction that added the grant */
            txHash: string | null;
          };
        };
      };
    };
  };
  GrantsController_revoke: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description On-chain grant id (uint256 as a decimal string) */
        grantId: string;
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /** @description 65-byte 0x-prefixed hex signature by the server owner */
          signature: string;
          /** @description viem's {domain, types, primaryType, message}; uint fields are decimal strings. Sign it as is with viem's signTypedData (or eth_signTypedData_v4). */
          typedData: {
            domain: {
              chainId?: number;
              name?: string;
              verifyingContract?: string;
              version?: string;
            };
            message: Record<string, never>;
            /** @enum {string} */
            primaryType: 'Grant' | 'RevokeGrant';
            types: Record<string, never>;
          };
        };
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            grantId: string;
            txHash: string;
          };
        };
      };
    };
  };
  GrantsController_revokeTypedData: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description On-chain grant id (uint256 as a decimal string) */
        grantId: string;
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @description viem's {domain, types, primaryType, message}; uint fields are decimal strings. Sign it as is with viem's signTypedData (or eth_signTypedData_v4). */
            typedData: {
              domain: {
                chainId?: number;
                name?: string;
                verifyingContract?: string;
                version?: string;
              };
              message: Record<string, never>;
              /** @enum {string} */
              primaryType: 'Grant' | 'RevokeGrant';
              types: Record<string, never>;
            };
          };
        };
      };
    };
  };
  GrantsController_typedData: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          allFiles?: boolean;
          appAddress: string;
          datasetIds?: string[];
          /** Format: date-time */
          expiresAt?: string;
          fileIds?: string[];
          operations: string[];
        };
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @description viem's {domain, types, primaryType, message}; uint fields are decimal strings. Sign it as is with viem's signTypedData (or eth_signTypedData_v4). */
            typedData: {
              domain: {
                chainId?: number;
                name?: string;
                verifyingContract?: string;
                version?: string;
              };
              message: Record<string, never>;
              /** @enum {string} */
              primaryType: 'Grant' | 'RevokeGrant';
              types: Record<string, never>;
            };
          };
        };
      };
    };
  };
  MembersController_list: {
    parameters: {
      query?: {
        cursor?: string;
        limit?: number;
      };
      header?: never;
      path: {
        /** @description Server id (srv_…) of a collective */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: {
              /** @description EIP-55 address of the member */
              address: string;
              /** @description How many files and bytes the member contributed (never their names or content) */
              contributions: {
                /** @description decimal */
                bytes?: string;
                files?: number;
              };
              /** Format: date-time */
              createdAt: string;
              /** @example mem_0197a1b2c3d47e8f9a0b1c2d3e4f5a6b */
              id: string;
              /** @enum {string} */
              role: 'admin' | 'member';
            }[];
            nextCursor?: string | null;
          };
        };
      };
    };
  };
  MembersController_add: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) of a collective */
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          address: string;
          /** @enum {string} */
          role: 'admin' | 'member';
        };
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @description EIP-55 address of the member */
            address: string;
            /** @description How many files and bytes the member contributed (never their names or content) */
            contributions: {
              /** @description decimal */
              bytes?: string;
              files?: number;
            };
            /** Format: date-time */
            createdAt: string;
            /** @example mem_0197a1b2c3d47e8f9a0b1c2d3e4f5a6b */
            id: string;
            /** @enum {string} */
            role: 'admin' | 'member';
          };
        };
      };
    };
  };
  MembersController_remove: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The member's address (any case) */
        address: string;
        /** @description Server id (srv_…) of a collective */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  PolicyController_put: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json':
          | {
              /** @enum {string} */
              kind: 'grants';
            }
          | {
              address: string;
              /** @enum {string} */
              kind: 'contract';
            };
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            address?: string;
            /** @enum {string} */
            kind: 'grants' | 'contract';
          };
        };
      };
    };
  };
  PrivacyController_get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) of a collective */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  PrivacyController_set: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) of a collective */
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          budget: number | null;
          epsilon: number | null;
        };
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  AccessLogController_usage: {
    parameters: {
      query?: {
        cursor?: string;
        from?: string;
        limit?: number;
        to?: string;
      };
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  EventsController_listWebhooks: {
    parameters: {
      query?: {
        cursor?: string;
        limit?: number;
      };
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items: {
              consecutiveFailures: number;
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              disabledAt: string | null;
              events:
                | (
                    | 'access_request.filed'
                    | 'grant.added'
                    | 'grant.revoked'
                    | 'grant.expired'
                    | 'operation.succeeded'
                    | 'operation.failed'
                    | 'operation.denied'
                    | 'api_key.created'
                    | 'api_key.rotated'
                    | 'api_key.revoked'
                    | 'member.joined'
                    | 'member.left'
                    | 'webhook.disabled'
                  )[]
                | null;
              id: string;
              /** @enum {string} */
              status: 'active' | 'disabled';
              url: string;
            }[];
            nextCursor: string | null;
          };
        };
      };
    };
  };
  EventsController_create: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          events?: (
            | 'access_request.filed'
            | 'grant.added'
            | 'grant.revoked'
            | 'grant.expired'
            | 'operation.succeeded'
            | 'operation.failed'
            | 'operation.denied'
            | 'api_key.created'
            | 'api_key.rotated'
            | 'api_key.revoked'
            | 'member.joined'
            | 'member.left'
            | 'webhook.disabled'
          )[];
          url: string;
        };
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            consecutiveFailures: number;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            disabledAt: string | null;
            events:
              | (
                  | 'access_request.filed'
                  | 'grant.added'
                  | 'grant.revoked'
                  | 'grant.expired'
                  | 'operation.succeeded'
                  | 'operation.failed'
                  | 'operation.denied'
                  | 'api_key.created'
                  | 'api_key.rotated'
                  | 'api_key.revoked'
                  | 'member.joined'
                  | 'member.left'
                  | 'webhook.disabled'
                )[]
              | null;
            id: string;
            secret: string;
            /** @enum {string} */
            status: 'active' | 'disabled';
            url: string;
          };
        };
      };
    };
  };
  EventsController_remove: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
        /** @description Webhook id (whk_…) */
        webhookId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  EventsController_deliveries: {
    parameters: {
      query?: {
        cursor?: string;
        limit?: number;
      };
      header?: never;
      path: {
        /** @description Server id (srv_…) */
        id: string;
        /** @description Webhook id (whk_…) */
        webhookId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items: {
              attempt: number;
              /** Format: date-time */
              createdAt: string;
              durationMs: number;
              errorCode: string | null;
              eventId: string;
              id: string;
              statusCode: number | null;
            }[];
            nextCursor: string | null;
          };
        };
      };
    };
  };
  WhitelistController_relay: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) of a collective */
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          signature: string;
          typedData: {
            [key: string]: unknown;
          };
        };
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  WhitelistController_typedData: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Server id (srv_…) of a collective */
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /** @enum {string} */
          action: 'add' | 'remove';
          app: string;
        };
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  McpController_openServerStream: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        serverId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  McpController_postForServer: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description srv_…: the API key's own server (any other: 404) */
        serverId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A JSON-RPC response (202 for a notification) */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  McpController_endServerSession: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        serverId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  WhoamiController_whoami: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            appAddress: string;
            keyId: string;
            /** @description EIP-55 address of the server's identity key */
            serverAddress: string;
            serverId: string;
            /** @description the server identity key's uncompressed secp256k1 public key (0x-hex) */
            serverPublicKey: string;
          };
        };
      };
    };
  };
}
