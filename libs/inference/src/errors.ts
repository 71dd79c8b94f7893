import type { OperationErrorCodeSubset } from '@hearth/errors';
import type { FieldError } from './types';

/** A failed run ends its operation with this code as its `error.code`, so each is an operation code. */
export type InferenceErrorCode = OperationErrorCodeSubset<
  | 'unknown_operation'
  | 'invalid_parameters'
  | 'unsupported_content_type'
  | 'invalid_encoding'
  | 'no_input'
  | 'input_too_large'
  | 'output_too_large'
  | 'missing_contributor'
  | 'below_k_threshold'
  | 'untrusted_endpoint'
  | 'engine_unavailable'
  | 'engine_failed'
  | 'timeout'
  | 'aborted'
>;

/** HTTP status an API would map each code to; the lead's error filter may use it. */
const STATUS: Record<InferenceErrorCode, number> = {
  unknown_operation: 400,
  invalid_parameters: 400,
  unsupported_content_type: 415,
  invalid_encoding: 422,
  no_input: 422,
  input_too_large: 413,
  output_too_large: 422,
  missing_contributor: 422,
  below_k_threshold: 422,
  untrusted_endpoint: 403,
  engine_unavailable: 503,
  engine_failed: 502,
  timeout: 504,
  aborted: 499,
};

/** Transient failures a job runner may retry; everything else fails the same way again. */
const RETRYABLE = new Set<InferenceErrorCode>(['engine_failed', 'timeout']);

export class InferenceError extends Error {
  readonly status: number;
  readonly retryable: boolean;

  constructor(
    readonly code: InferenceErrorCode,
    message: string,
    readonly fieldErrors?: FieldError[],
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InferenceError';
    this.status = STATUS[code];
    this.retryable = options?.retryable ?? RETRYABLE.has(code);
  }
}

export function isInferenceError(e: unknown): e is InferenceError {
  return e instanceof InferenceError;
}
