/**
 * Every stable error code the API returns in a problem document, in one place. Values are part of the public
 * contract (documented at /docs): add new ones, never rename.
 */
export enum ErrorCode {
  // generic request problems
  validation_failed = 'validation_failed',
  malformed_json = 'malformed_json',
  unsupported_media_type = 'unsupported_media_type',
  unsupported_content_encoding = 'unsupported_content_encoding',
  payload_too_large = 'payload_too_large',
  not_found = 'not_found',
  route_not_found = 'route_not_found',
  method_not_allowed = 'method_not_allowed',
  conflict = 'conflict',
  internal_error = 'internal_error',
  service_unavailable = 'service_unavailable',
  // outages of a dependency: always 503 with Retry-After
  database_unavailable = 'database_unavailable',
  queue_unavailable = 'queue_unavailable',
  key_manager_unavailable = 'key_manager_unavailable',
  // auth
  unauthorized = 'unauthorized',
  invalid_session = 'invalid_session',
  invalid_siwe_message = 'invalid_siwe_message',
  invalid_signature = 'invalid_signature',
  nonce_invalid = 'nonce_invalid',
  message_expired = 'message_expired',
  wrong_domain = 'wrong_domain',
  wrong_chain = 'wrong_chain',
  forbidden = 'forbidden',
  // api keys
  invalid_api_key = 'invalid_api_key',
  api_key_revoked = 'api_key_revoked',
  app_has_no_api_key = 'app_has_no_api_key',
  rate_limited = 'rate_limited',
  quota_exceeded = 'quota_exceeded',
  origin_not_allowed = 'origin_not_allowed',
  operation_not_allowed = 'operation_not_allowed',
  operation_not_allowed_for_server_kind = 'operation_not_allowed_for_server_kind',
  // data
  ciphertext_invalid = 'ciphertext_invalid',
  envelope_wrong_recipient = 'envelope_wrong_recipient',
  key_destroyed = 'key_destroyed',
  // chain and grants
  chain_unavailable = 'chain_unavailable',
  grant_invalid = 'grant_invalid',
  grant_not_found = 'grant_not_found',
  signature_mismatch = 'signature_mismatch',
  policy_invalid = 'policy_invalid',
  // operations
  unknown_operation = 'unknown_operation',
  invalid_parameters = 'invalid_parameters',
  idempotency_conflict = 'idempotency_conflict',
  operation_not_cancellable = 'operation_not_cancellable',
  permission_denied = 'permission_denied',
  input_too_large = 'input_too_large',
  execution_failed = 'execution_failed',
  // collectives
  member_exists = 'member_exists',
  not_a_member = 'not_a_member',
  below_k_threshold = 'below_k_threshold',
  file_selection_not_allowed = 'file_selection_not_allowed',
  privacy_budget_exhausted = 'privacy_budget_exhausted',
  // access requests and app-side discovery
  access_request_replayed = 'access_request_replayed',
  access_request_not_supported = 'access_request_not_supported',
  access_request_not_pending = 'access_request_not_pending',
  access_request_not_approved = 'access_request_not_approved',
  access_request_expired = 'access_request_expired',
  already_claimed = 'already_claimed',
  grant_ambiguous = 'grant_ambiguous',
  // events and webhooks
  webhook_url_not_allowed = 'webhook_url_not_allowed',
  // the Data Portability Protocol's routes (/dp/{serverId})
  dp_auth_missing = 'dp_auth_missing',
  dp_auth_malformed = 'dp_auth_malformed',
  dp_signature_invalid = 'dp_signature_invalid',
  dp_wrong_audience = 'dp_wrong_audience',
  dp_request_mismatch = 'dp_request_mismatch',
  dp_body_hash_mismatch = 'dp_body_hash_mismatch',
  dp_auth_expired = 'dp_auth_expired',
  dp_replayed = 'dp_replayed',
  dp_builder_unregistered = 'dp_builder_unregistered',
  dp_not_owner = 'dp_not_owner',
  dp_grant_required = 'dp_grant_required',
  dp_grant_not_found = 'dp_grant_not_found',
  dp_grant_wrong_grantee = 'dp_grant_wrong_grantee',
  dp_grant_wrong_owner = 'dp_grant_wrong_owner',
  dp_grant_revoked = 'dp_grant_revoked',
  dp_grant_expired = 'dp_grant_expired',
  dp_scope_not_granted = 'dp_scope_not_granted',
  dp_scope_not_readable = 'dp_scope_not_readable',
  dp_scope_invalid = 'dp_scope_invalid',
  dp_data_not_found = 'dp_data_not_found',
  dp_schema_not_found = 'dp_schema_not_found',
  dp_schema_mismatch = 'dp_schema_mismatch',
  dp_registry_unavailable = 'dp_registry_unavailable',
  dp_gateway_unavailable = 'dp_gateway_unavailable',
}

/** An `ErrorCode` as its string value, so a library can name codes as plain literals. */
export type ErrorCodeValue = `${ErrorCode}`;

/**
 * `C`, checked to be problem codes: a library declares its own code type with it (e.g. the relayer's errors), so
 * it cannot name a code this file does not define.
 */
export type ErrorCodeSubset<C extends ErrorCodeValue> = C;

export interface ErrorCodeDoc {
  /** The problem document's `title` (the same for every problem with this code). */
  title: string;
  /** One line for /docs: when a client gets it. */
  description: string;
}

/** Title and description of every problem code; /docs is built from it. */
export const ERROR_CODE_DOCS: Readonly<Record<ErrorCode, ErrorCodeDoc>> = {
  [ErrorCode.validation_failed]: {
    title: 'Request validation failed',
    description: 'The request (body, query, path or headers) is invalid; `errors` names each bad field.',
  },
  [ErrorCode.malformed_json]: {
    title: 'Malformed JSON body',
    description: 'The body is not valid JSON.',
  },
  [ErrorCode.unsupported_media_type]: {
    title: 'Unsupported media type',
    description: 'The endpoint does not take this Content-Type (or body encoding).',
  },
  [ErrorCode.unsupported_content_encoding]: {
    title: 'Unsupported content encoding',
    description:
      'The body is sent with a `Content-Encoding` the endpoint does not decode (gzip, deflate, br do).',
  },
  [ErrorCode.payload_too_large]: {
    title: 'Payload too large',
    description: 'The body is over the limit of the endpoint (JSON bodies, file uploads).',
  },
  [ErrorCode.not_found]: {
    title: 'Not found',
    description: "No such resource, or not one the caller may see (another tenant's ids are not found).",
  },
  [ErrorCode.route_not_found]: {
    title: 'No such route',
    description: 'No endpoint at this path.',
  },
  [ErrorCode.method_not_allowed]: {
    title: 'Method not allowed',
    description: 'The path exists but not with this method; the `Allow` header lists the methods it takes.',
  },
  [ErrorCode.conflict]: {
    title: 'Conflict',
    description: 'The request conflicts with the current state (e.g. a grant already revoked).',
  },
  [ErrorCode.internal_error]: {
    title: 'Internal error',
    description: 'An unexpected failure on our side; nothing about it is disclosed. Quote the `requestId`.',
  },
  [ErrorCode.service_unavailable]: {
    title: 'Service unavailable',
    description: 'A dependency (queue, key manager) is unavailable; retry after `Retry-After` seconds.',
  },
  [ErrorCode.database_unavailable]: {
    title: 'Database unavailable',
    description: 'Postgres cannot be reached; nothing was changed. Retry after `Retry-After` seconds.',
  },
  [ErrorCode.queue_unavailable]: {
    title: 'Queue unavailable',
    description:
      'Redis (the queue, rate limits, sign-in nonces) cannot be reached; nothing was queued. Retry after `Retry-After` seconds.',
  },
  [ErrorCode.key_manager_unavailable]: {
    title: 'Key manager unavailable',
    description: 'The key manager (KMS) cannot be reached to open keys. Retry after `Retry-After` seconds.',
  },
  [ErrorCode.unauthorized]: {
    title: 'Authentication required',
    description: 'No credentials: send `Authorization: Bearer` with a session token or an API key.',
  },
  [ErrorCode.invalid_session]: {
    title: 'Invalid session',
    description: 'The session token is unknown, expired, signed out, or not a session token.',
  },
  [ErrorCode.invalid_siwe_message]: {
    title: 'Invalid siwe message',
    description: 'The Sign-In with Ethereum message cannot be parsed.',
  },
  [ErrorCode.invalid_signature]: {
    title: 'Invalid signature',
    description: 'The signature is malformed or does not recover to the expected signer.',
  },
  [ErrorCode.nonce_invalid]: {
    title: 'Nonce invalid',
    description: 'The sign-in nonce is unknown, expired or already used; get a new one.',
  },
  [ErrorCode.message_expired]: {
    title: 'Message expired',
    description: 'The signed sign-in message is past its expiration time.',
  },
  [ErrorCode.wrong_domain]: {
    title: 'Wrong domain',
    description: "The sign-in message's domain, uri origin or scheme is not this API's public URL.",
  },
  [ErrorCode.wrong_chain]: {
    title: 'Wrong chain',
    description: 'The sign-in message is for another chain id.',
  },
  [ErrorCode.forbidden]: {
    title: 'Forbidden',
    description: "Authenticated, but not allowed to do this (e.g. not the server's owner or an admin).",
  },
  [ErrorCode.invalid_api_key]: {
    title: 'Invalid api key',
    description: 'The API key is unknown or malformed.',
  },
  [ErrorCode.api_key_revoked]: {
    title: 'Api key revoked',
    description: 'The API key was revoked or has expired.',
  },
  [ErrorCode.app_has_no_api_key]: {
    title: 'App has no api key',
    description:
      "A request Web3Signed by an app's wallet runs under that app's API key on the server, and it has none in use (file an access request).",
  },
  [ErrorCode.rate_limited]: {
    title: 'Rate limit exceeded',
    description:
      'Too many requests for this API key, client IP (sign-in) or account (owner routes); retry after `Retry-After` seconds.',
  },
  [ErrorCode.quota_exceeded]: {
    title: 'Quota exceeded',
    description:
      'The request would take the account or server past a quota (`errors[0].field` names it: `servers`, `collectives`, `relayed_transactions_per_day`, `storage_bytes`); 403, or 413 for storage. See `GET /v1/servers/:id/usage`.',
  },
  [ErrorCode.origin_not_allowed]: {
    title: 'Origin not allowed',
    description: "The request's `Origin` is not on the API key's allowlist.",
  },
  [ErrorCode.operation_not_allowed]: {
    title: 'Operation not allowed',
    description:
      'The API key may not run this operation, or a collective was asked for a non-aggregate operation.',
  },
  [ErrorCode.operation_not_allowed_for_server_kind]: {
    title: 'Operation not allowed for server kind',
    description:
      'A grant names an operation this kind of server never runs: per-person on a collective, aggregate on a personal server.',
  },
  [ErrorCode.ciphertext_invalid]: {
    title: 'Ciphertext invalid',
    description: 'Uploaded ciphertext (a client-encrypted envelope) is malformed or fails to authenticate.',
  },
  [ErrorCode.envelope_wrong_recipient]: {
    title: 'Envelope wrong recipient',
    description: "The uploaded envelope is encrypted to another server's public key.",
  },
  [ErrorCode.key_destroyed]: {
    title: 'Key destroyed',
    description: 'The tenant key was destroyed: the data it protected is gone for good.',
  },
  [ErrorCode.chain_unavailable]: {
    title: 'Chain unavailable',
    description: 'The chain RPC is unreachable or gave an unexpected answer; retry later.',
  },
  [ErrorCode.grant_invalid]: {
    title: 'Grant invalid',
    description: 'The chain refused the signed grant or revocation (e.g. the transaction would revert).',
  },
  [ErrorCode.grant_not_found]: {
    title: 'Grant not found',
    description: 'No such grant on this server.',
  },
  [ErrorCode.signature_mismatch]: {
    title: 'Signature mismatch',
    description: 'The contract rejected the signature: it is not the signer the typed data requires.',
  },
  [ErrorCode.policy_invalid]: {
    title: 'Policy invalid',
    description:
      'The permission policy is unusable: not an IVanaDataPermission contract, or a Whitelist change refused.',
  },
  [ErrorCode.unknown_operation]: {
    title: 'Unknown operation',
    description: 'No operation by this name in the catalog (`GET /v1/operations/catalog`).',
  },
  [ErrorCode.invalid_parameters]: {
    title: 'Invalid parameters',
    description: "The operation's parameters do not match its schema in the catalog; `errors` names each.",
  },
  [ErrorCode.idempotency_conflict]: {
    title: 'Idempotency conflict',
    description: 'This `Idempotency-Key` was already used with a different request body.',
  },
  [ErrorCode.operation_not_cancellable]: {
    title: 'Operation not cancellable',
    description: 'Only a queued operation can be cancelled; this one is running or finished.',
  },
  [ErrorCode.permission_denied]: {
    title: 'Permission denied',
    description:
      "The grant (or the policy contract) does not allow this; the field error's `code` is the reason.",
  },
  [ErrorCode.input_too_large]: {
    title: 'Input too large',
    description:
      "The files named add up to more bytes than the operation's `limits.maxInputBytes` in the catalog.",
  },
  [ErrorCode.execution_failed]: {
    title: 'Execution failed',
    description: 'The operation could not be run.',
  },
  [ErrorCode.member_exists]: {
    title: 'Member exists',
    description: 'The address is already a member of this collective.',
  },
  [ErrorCode.not_a_member]: {
    title: 'Not a member',
    description: 'The address is not a member of this collective.',
  },
  [ErrorCode.below_k_threshold]: {
    title: 'Below k threshold',
    description: "Fewer distinct contributors than the collective's k: no aggregate is released.",
  },
  [ErrorCode.file_selection_not_allowed]: {
    title: 'File selection not allowed',
    description:
      "A collective's aggregates run over its whole current contribution set or a published dataset (datasetId), never files an app or grant picks: drop fileIds.",
  },
  [ErrorCode.privacy_budget_exhausted]: {
    title: 'Privacy budget exhausted',
    description:
      'The app has spent its differential-privacy budget (ε) on this collective: no further aggregate is released to it.',
  },
  [ErrorCode.access_request_replayed]: {
    title: 'Access request replayed',
    description: "This access request's nonce was already used: sign fresh typed data (a new nonce).",
  },
  [ErrorCode.access_request_not_supported]: {
    title: 'Access request not supported',
    description: 'Access requests are for personal servers; a collective grants apps through its admins.',
  },
  [ErrorCode.access_request_not_pending]: {
    title: 'Access request not pending',
    description: 'The access request was already approved or denied.',
  },
  [ErrorCode.access_request_not_approved]: {
    title: 'Access request not approved',
    description:
      'The access request is not approved (yet, or it was denied or lapsed): there is no key to claim.',
  },
  [ErrorCode.access_request_expired]: {
    title: 'Access request expired',
    description:
      'The access request lapsed (ACCESS_REQUEST_TTL_SECONDS after filing) before the owner decided.',
  },
  [ErrorCode.already_claimed]: {
    title: 'Already claimed',
    description: "The approved request's API key was already delivered; it is shown once.",
  },
  [ErrorCode.grant_ambiguous]: {
    title: 'Grant ambiguous',
    description:
      'No grantId was given and several active grants cover the request; `errors` lists each candidate: name one.',
  },
  [ErrorCode.webhook_url_not_allowed]: {
    title: 'Webhook URL not allowed',
    description:
      "The webhook `url` is not https (outside development), or its host is or resolves to a private, loopback, link-local or unique-local address; the field error's `code` says which.",
  },
  [ErrorCode.dp_auth_missing]: {
    title: 'Authorization missing',
    description:
      'A Data Portability route was called without `Authorization: Web3Signed …` (or, on owner routes, an owner session).',
  },
  [ErrorCode.dp_auth_malformed]: {
    title: 'Authorization malformed',
    description:
      'The Web3Signed header is not `<base64url canonical JSON>.<0x 65-byte signature>` with the payload fields the spec names.',
  },
  [ErrorCode.dp_signature_invalid]: {
    title: 'Signature invalid',
    description: 'The Web3Signed signature does not recover to an address.',
  },
  [ErrorCode.dp_wrong_audience]: {
    title: 'Wrong audience',
    description: "The Web3Signed `aud` is not this personal server's origin.",
  },
  [ErrorCode.dp_request_mismatch]: {
    title: 'Request mismatch',
    description:
      'The Web3Signed `method` or `uri` (path and query string, as sent) is not the request it came with.',
  },
  [ErrorCode.dp_body_hash_mismatch]: {
    title: 'Body hash mismatch',
    description: 'The Web3Signed `bodyHash` is not the SHA-256 of the body (the empty string for none).',
  },
  [ErrorCode.dp_auth_expired]: {
    title: 'Signed request expired',
    description:
      'The Web3Signed `iat`/`exp` are outside the allowed skew window (or the window is longer than it).',
  },
  [ErrorCode.dp_replayed]: {
    title: 'Signed request replayed',
    description: 'This Web3Signed payload was already accepted once: sign every request anew.',
  },
  [ErrorCode.dp_builder_unregistered]: {
    title: 'Builder unregistered',
    description: 'The Web3Signed signer is not a builder registered on DataPortabilityGrantees.',
  },
  [ErrorCode.dp_not_owner]: {
    title: 'Not the owner',
    description: "This route is the server owner's: the signer (or session) is not its owner.",
  },
  [ErrorCode.dp_grant_required]: {
    title: 'Grant required',
    description: 'A builder read of raw data needs `grantId` in the Web3Signed payload.',
  },
  [ErrorCode.dp_grant_not_found]: {
    title: 'Grant not found',
    description: 'No permission on DataPortabilityPermissions has this `grantId`.',
  },
  [ErrorCode.dp_grant_wrong_grantee]: {
    title: 'Grant of another builder',
    description: "The Web3Signed signer is not the grant's grantee.",
  },
  [ErrorCode.dp_grant_wrong_owner]: {
    title: 'Grant of another user',
    description: "The grant was not given by this server's owner.",
  },
  [ErrorCode.dp_grant_revoked]: {
    title: 'Grant revoked',
    description: 'The grant was revoked: its end block has been reached (protocol code 410).',
  },
  [ErrorCode.dp_grant_expired]: {
    title: 'Grant expired',
    description: "The grant's `expiresAt` has passed (protocol code 411).",
  },
  [ErrorCode.dp_scope_not_granted]: {
    title: 'Scope not granted',
    description: 'The scope asked for is not within the grant (protocol code 412).',
  },
  [ErrorCode.dp_scope_not_readable]: {
    title: 'Scope not readable',
    description:
      'The owner has not marked this scope readable by builders: `details.operations` names the Hearth operations the builder may run on it instead.',
  },
  [ErrorCode.dp_scope_invalid]: {
    title: 'Scope invalid',
    description:
      'A scope is dot-separated segments of lowercase letters, digits, `_` and `-` (e.g. `instagram.profile`).',
  },
  [ErrorCode.dp_data_not_found]: {
    title: 'Data not found',
    description: 'The scope has no version matching the request (or no versions at all).',
  },
  [ErrorCode.dp_schema_not_found]: {
    title: 'Schema not found',
    description: 'The Data Portability Gateway has no schema registered for this scope.',
  },
  [ErrorCode.dp_schema_mismatch]: {
    title: 'Document does not match its schema',
    description:
      "The document is not valid against its scope's registered schema; `details.errors` says where.",
  },
  [ErrorCode.dp_registry_unavailable]: {
    title: 'Registries unavailable',
    description:
      'The Data Portability registries (chain) could not be read: access is denied until they can; retry later.',
  },
  [ErrorCode.dp_gateway_unavailable]: {
    title: 'Data Portability Gateway unavailable',
    description: 'The Data Portability Gateway (DP RPC) could not be reached; retry later.',
  },
};

/** Human titles for problem documents. */
export const ERROR_TITLES: Readonly<Record<ErrorCode, string>> = Object.fromEntries(
  Object.entries(ERROR_CODE_DOCS).map(([code, doc]) => [code, doc.title]),
) as Record<ErrorCode, string>;
