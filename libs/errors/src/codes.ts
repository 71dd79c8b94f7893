/**
 * Every stable error code the API returns, in one place. Values are part of the public contract (documented
 * at /docs): add new ones, never rename.
 */
export enum ErrorCode {
  // generic request problems
  validation_failed = 'validation_failed',
  malformed_json = 'malformed_json',
  unsupported_media_type = 'unsupported_media_type',
  payload_too_large = 'payload_too_large',
  not_found = 'not_found',
  route_not_found = 'route_not_found',
  method_not_allowed = 'method_not_allowed',
  conflict = 'conflict',
  internal_error = 'internal_error',
  service_unavailable = 'service_unavailable',
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
  rate_limited = 'rate_limited',
  origin_not_allowed = 'origin_not_allowed',
  operation_not_allowed = 'operation_not_allowed',
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
  execution_failed = 'execution_failed',
  // collectives
  member_exists = 'member_exists',
  not_a_member = 'not_a_member',
  below_k_threshold = 'below_k_threshold',
}

/** Human titles for problem documents. */
export const ERROR_TITLES: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.validation_failed]: 'Request validation failed',
  [ErrorCode.malformed_json]: 'Malformed JSON body',
  [ErrorCode.unsupported_media_type]: 'Unsupported media type',
  [ErrorCode.payload_too_large]: 'Payload too large',
  [ErrorCode.not_found]: 'Not found',
  [ErrorCode.route_not_found]: 'No such route',
  [ErrorCode.unauthorized]: 'Authentication required',
  [ErrorCode.rate_limited]: 'Rate limit exceeded',
  [ErrorCode.internal_error]: 'Internal error',
};
