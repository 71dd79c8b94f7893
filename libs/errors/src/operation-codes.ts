/**
 * Every code an operation can end with (`error.code` of a failed, denied or cancelled operation), in one place.
 * Values are part of the public contract (documented at /docs): add new ones, never rename. Some share a
 * name with a problem code (`ErrorCode`); each set is documented on its own.
 */
export const OperationErrorCode = {
  // the operation itself
  cancelled: 'cancelled',
  file_not_found: 'file_not_found',
  operation_not_allowed: 'operation_not_allowed',
  timeout: 'timeout',
  execution_failed: 'execution_failed',
  identity_mismatch: 'identity_mismatch',
  // the sandbox's limits
  sandbox_memory_exceeded: 'sandbox_memory_exceeded',
  sandbox_time_exceeded: 'sandbox_time_exceeded',
  // the queue gave up on it (the database is the record: these end an operation nothing can run any more)
  retry_budget_exhausted: 'retry_budget_exhausted',
  lost_in_queue: 'lost_in_queue',
  deadline_exceeded: 'deadline_exceeded',
  // keys and ciphertext
  kms_unavailable: 'kms_unavailable',
  key_destroyed: 'key_destroyed',
  ciphertext_invalid: 'ciphertext_invalid',
  // permission, checked on-chain when the operation runs
  grant_not_found: 'grant_not_found',
  grant_revoked: 'grant_revoked',
  grant_expired: 'grant_expired',
  wrong_grantee: 'wrong_grantee',
  wrong_server: 'wrong_server',
  operation_not_granted: 'operation_not_granted',
  file_not_granted: 'file_not_granted',
  not_authorized: 'not_authorized',
  chain_unavailable: 'chain_unavailable',
  // the engine
  unknown_operation: 'unknown_operation',
  invalid_parameters: 'invalid_parameters',
  unsupported_content_type: 'unsupported_content_type',
  invalid_encoding: 'invalid_encoding',
  no_input: 'no_input',
  input_too_large: 'input_too_large',
  output_too_large: 'output_too_large',
  missing_contributor: 'missing_contributor',
  below_k_threshold: 'below_k_threshold',
  privacy_budget_exhausted: 'privacy_budget_exhausted',
  file_selection_not_allowed: 'file_selection_not_allowed',
  dataset_retired: 'dataset_retired',
  untrusted_endpoint: 'untrusted_endpoint',
  engine_unavailable: 'engine_unavailable',
  engine_failed: 'engine_failed',
  aborted: 'aborted',
} as const;

export type OperationErrorCode = (typeof OperationErrorCode)[keyof typeof OperationErrorCode];

/**
 * `C`, checked to be operation error codes: a library declares the codes it can end an operation with through
 * it (e.g. the permission checker's `DenyCode`), so it cannot produce a code /docs does not list.
 */
export type OperationErrorCodeSubset<C extends OperationErrorCode> = C;

export interface OperationErrorCodeDoc {
  /** The operation's `status` when it ends with this code. */
  status: 'failed' | 'denied' | 'cancelled';
  /** One line for /docs: what happened. */
  description: string;
}

/** Status and description of every operation error code; /docs is built from it. */
export const OPERATION_ERROR_CODE_DOCS: Readonly<Record<OperationErrorCode, OperationErrorCodeDoc>> = {
  cancelled: { status: 'cancelled', description: 'Cancelled by its API key while still queued.' },
  file_not_found: { status: 'failed', description: 'A file it names was deleted before the operation ran.' },
  operation_not_allowed: {
    status: 'denied',
    description: 'A collective runs aggregate operations only; this one is not aggregate.',
  },
  timeout: { status: 'failed', description: 'The operation (or its model server) ran past its time limit.' },
  sandbox_memory_exceeded: {
    status: 'failed',
    description: 'The operation needed more memory (heap, buffers, models) than its sandbox allows.',
  },
  sandbox_time_exceeded: {
    status: 'failed',
    description: 'The operation used more CPU time than its sandbox allows.',
  },
  execution_failed: {
    status: 'failed',
    description: 'The operation could not be run: a failure no retry can fix (e.g. its server is gone).',
  },
  identity_mismatch: {
    status: 'failed',
    description: "The server's identity key does not match its address; no receipt is signed.",
  },
  retry_budget_exhausted: {
    status: 'failed',
    description:
      'Every attempt failed on an outage (database, queue, chain, key manager, a killed worker or child); retries are used up.',
  },
  lost_in_queue: {
    status: 'failed',
    description:
      'Its queue job was lost (e.g. a Redis without persistence restarted) more often than it may be re-queued.',
  },
  deadline_exceeded: {
    status: 'failed',
    description: 'It was still not finished past OPERATION_DEADLINE_MS after it was accepted.',
  },
  kms_unavailable: {
    status: 'failed',
    description: 'The key manager could not be reached to unwrap the keys.',
  },
  key_destroyed: {
    status: 'failed',
    description: 'A key was destroyed or could not unwrap a data key: the data cannot be opened.',
  },
  ciphertext_invalid: {
    status: 'failed',
    description: 'A file failed to decrypt (altered, truncated or not addressed to this server).',
  },
  grant_not_found: { status: 'denied', description: 'The grant named does not exist on-chain.' },
  grant_revoked: { status: 'denied', description: 'The grant was revoked.' },
  grant_expired: { status: 'denied', description: 'The grant has expired.' },
  wrong_grantee: { status: 'denied', description: "The grant is for another app than the API key's." },
  wrong_server: { status: 'denied', description: 'The grant is for another server.' },
  operation_not_granted: { status: 'denied', description: 'The grant does not include this operation.' },
  file_not_granted: { status: 'denied', description: 'The grant does not cover every file named.' },
  not_authorized: {
    status: 'denied',
    description: "The grantor is not the owner, or the server's policy contract refused the app.",
  },
  chain_unavailable: {
    status: 'denied',
    description: 'The permission could not be checked on-chain (unreachable or slow): denied, never allowed.',
  },
  unknown_operation: { status: 'failed', description: 'The operation is no longer in the catalog.' },
  invalid_parameters: {
    status: 'failed',
    description: 'The parameters are invalid for the operation as it runs (e.g. no room left for data).',
  },
  unsupported_content_type: {
    status: 'failed',
    description: "A file's content type is not one the operation reads.",
  },
  invalid_encoding: { status: 'failed', description: 'A file is not valid UTF-8 text.' },
  no_input: { status: 'failed', description: 'The operation needs at least one document.' },
  input_too_large: {
    status: 'failed',
    description: 'Too many files, or more text than the operation takes.',
  },
  output_too_large: {
    status: 'failed',
    description: 'The result is over the size the operation may return.',
  },
  missing_contributor: {
    status: 'failed',
    description: 'An aggregate operation was given a file without a contributor.',
  },
  below_k_threshold: {
    status: 'denied',
    description: "Fewer distinct contributors than the collective's k: no aggregate is released.",
  },
  privacy_budget_exhausted: {
    status: 'denied',
    description:
      "The app's differential-privacy budget (ε) on this collective would be passed: nothing is released, nothing spent.",
  },
  file_selection_not_allowed: {
    status: 'denied',
    description:
      "A collective's aggregate named its own files; it runs over the whole contribution set or a published dataset only.",
  },
  dataset_retired: {
    status: 'denied',
    description:
      'A file of the dataset is gone (its member was removed): a run now would differ from earlier ones by that member alone. Publish a new version.',
  },
  untrusted_endpoint: {
    status: 'failed',
    description: 'The configured model server is not on the trusted list; no data was sent to it.',
  },
  engine_unavailable: {
    status: 'failed',
    description: 'The inference engine (model, model server) is not available.',
  },
  engine_failed: { status: 'failed', description: 'The inference engine failed while running.' },
  aborted: { status: 'failed', description: 'The run was cancelled before it finished.' },
};
