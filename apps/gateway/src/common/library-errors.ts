/**
 * The one place where errors of libraries (ours, Nest's, Express's body parser, zod) become problems. The
 * filter maps whatever reaches it through `problemOf`; services that know more about a call (where the typed
 * data sits in the body, what it governs) call the specific mappers themselves.
 */
import { HttpException, type LoggerService } from '@nestjs/common';
import { type CryptoError, isCryptoError } from '@hearth/crypto';
import { isQuotaExceededError, type QuotaExceededError } from '@hearth/db';
import { ErrorCode, type FieldError, ProblemError, zodFieldErrors } from '@hearth/errors';
import { InferenceError, type InferenceErrorCode } from '@hearth/inference';
import { isDatabaseUnavailable } from '@hearth/db';
import { KeyManagerError } from '@hearth/kms';
import { PermissionsError } from '@hearth/permissions';
import { isQueueUnavailable } from '@hearth/queue';
import { ZodError } from 'zod';

const RETRY_AFTER_SECONDS = 5;

export interface PermissionsProblemOptions {
  /** Where the relayer's typed data sits in the request body (e.g. "typedData."); field names get it in front. */
  prefix?: string;
  /**
   * What the typed data governs. For a collective's Whitelist change, the grant codes the relayer shares with
   * grants mean the policy change was refused (`policy_invalid`). Default: a grant.
   */
  subject?: 'grant' | 'whitelist';
  /** Sent as Retry-After with `chain_unavailable`; none when unset. */
  retryAfterSeconds?: number;
  /** Told of a refusal the parser could not foresee (`grant_invalid`), for operators. */
  logger?: Pick<LoggerService, 'warn'>;
}

/** A relayer failure as a problem; its codes are problem codes, so most map one to one. */
export function permissionsProblem(
  err: PermissionsError,
  options: PermissionsProblemOptions = {},
): ProblemError {
  const { prefix = '', subject = 'grant' } = options;
  const errors = prefixFields(prefix, err.fieldErrors);
  switch (err.code) {
    case 'validation_failed':
      return ProblemError.validation(errors);
    case 'invalid_signature':
    case 'signature_mismatch':
      return new ProblemError(400, ErrorCode[err.code], err.message, [
        { field: 'signature', code: err.code, message: err.message },
      ]);
    case 'conflict':
      return new ProblemError(409, ErrorCode.conflict, err.message, errors);
    case 'forbidden':
      return new ProblemError(403, ErrorCode.forbidden, err.message, errors);
    case 'chain_unavailable':
      return new ProblemError(
        503,
        ErrorCode.chain_unavailable,
        'The chain RPC is unreachable; try again later',
        undefined,
        options.retryAfterSeconds === undefined
          ? undefined
          : { 'Retry-After': String(options.retryAfterSeconds) },
      );
    case 'policy_invalid':
      return new ProblemError(400, ErrorCode.policy_invalid, err.message, errors);
    case 'grant_not_found':
      if (subject === 'whitelist')
        return new ProblemError(400, ErrorCode.policy_invalid, err.message, errors);
      return new ProblemError(404, ErrorCode.grant_not_found, 'No such grant on this server');
    case 'grant_invalid':
      // A revert the parser could not foresee, or (rarely) the relayer itself failing: logged for operators.
      options.logger?.warn({ err: { name: err.name, message: err.message } }, 'relay refused');
      return new ProblemError(
        400,
        subject === 'whitelist' ? ErrorCode.policy_invalid : ErrorCode.grant_invalid,
        err.message,
        errors,
      );
  }
}

/** Field names relative to a part of the body, prefixed to match it (the part itself keeps its own name). */
export function prefixFields(prefix: string, errors: readonly FieldError[]): FieldError[] {
  return errors.map((e) => ({
    field: prefix && e.field !== prefix.replace(/\.$/, '') ? `${prefix}${e.field}` : e.field,
    code: e.code,
    message: e.message,
  }));
}

/** Ciphertext the client sent (an uploaded envelope) that does not open: the client's error, named by field. */
export function clientCiphertextProblem(err: CryptoError, field = 'body'): ProblemError {
  if (err.code === 'envelope_wrong_recipient') {
    return new ProblemError(
      400,
      ErrorCode.envelope_wrong_recipient,
      "The envelope is encrypted to another server's key",
      [
        {
          field,
          code: 'wrong_recipient',
          message: "encrypt to this server's public key (GET /v1/servers/:id)",
        },
      ],
    );
  }
  return new ProblemError(400, ErrorCode.ciphertext_invalid, `The envelope is not valid: ${err.code}`, [
    { field, code: err.code, message: 'see the envelope format in libs/crypto/ENVELOPE.md' },
  ]);
}

/** A key-manager failure no service handled: an outage is retryable, a destroyed key is gone, the rest is ours. */
export function keyManagerProblem(err: KeyManagerError): ProblemError {
  switch (err.code) {
    case 'kms_unavailable':
      return outageProblem(ErrorCode.key_manager_unavailable, 'The key manager is unavailable; try again');
    case 'key_destroyed':
      return new ProblemError(410, ErrorCode.key_destroyed, 'The key of this data was destroyed; it is gone');
    case 'unwrap_failed':
    case 'key_not_found':
    case 'invalid_argument':
      return internalError();
  }
}

/** Status and code of each engine failure that escapes to a request (the engines normally run in the worker). */
const INFERENCE_PROBLEMS: Record<InferenceErrorCode, [number, ErrorCode]> = {
  unknown_operation: [404, ErrorCode.unknown_operation],
  invalid_parameters: [400, ErrorCode.invalid_parameters],
  unsupported_content_type: [415, ErrorCode.unsupported_media_type],
  input_too_large: [413, ErrorCode.payload_too_large],
  below_k_threshold: [422, ErrorCode.below_k_threshold],
  invalid_encoding: [422, ErrorCode.execution_failed],
  no_input: [422, ErrorCode.execution_failed],
  output_too_large: [422, ErrorCode.execution_failed],
  missing_contributor: [422, ErrorCode.execution_failed],
  engine_unavailable: [503, ErrorCode.service_unavailable],
  engine_failed: [503, ErrorCode.service_unavailable],
  timeout: [503, ErrorCode.service_unavailable],
  aborted: [503, ErrorCode.service_unavailable],
  // The operator's configuration, not the client's request: nothing about it is disclosed.
  untrusted_endpoint: [500, ErrorCode.internal_error],
};

export function inferenceProblem(err: InferenceError): ProblemError {
  const [status, code] = INFERENCE_PROBLEMS[err.code];
  if (status === 500) return internalError();
  if (status === 503) {
    return new ProblemError(status, code, 'The inference engine is unavailable; try again', undefined, {
      'Retry-After': String(RETRY_AFTER_SECONDS),
    });
  }
  return new ProblemError(status, code, err.message, err.fieldErrors);
}

/** Statuses Nest's own exceptions (and its not-found handler) raise, by the code they mean. */
const HTTP_STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: ErrorCode.validation_failed,
  401: ErrorCode.unauthorized,
  403: ErrorCode.forbidden,
  404: ErrorCode.route_not_found,
  405: ErrorCode.method_not_allowed,
  409: ErrorCode.conflict,
  413: ErrorCode.payload_too_large,
  415: ErrorCode.unsupported_media_type,
  429: ErrorCode.rate_limited,
  503: ErrorCode.service_unavailable,
};

function httpExceptionProblem(err: HttpException): ProblemError {
  const status = err.getStatus();
  const code =
    HTTP_STATUS_CODES[status] ?? (status >= 500 ? ErrorCode.internal_error : ErrorCode.validation_failed);
  const detail = status === 404 ? 'No such route' : status >= 500 ? 'Internal error' : err.message;
  return new ProblemError(status, code, detail);
}

/** Fastify's own request errors (`FST_…`) carry a 4xx status: a malformed request, never a 500. */
function frameworkProblem(err: { code?: unknown; statusCode?: unknown }): ProblemError | undefined {
  const status = err.statusCode;
  if (typeof err.code !== 'string' || !err.code.startsWith('FST_') || typeof status !== 'number')
    return undefined;
  if (status < 400 || status >= 500) return undefined;
  return new ProblemError(
    status,
    HTTP_STATUS_CODES[status] ?? ErrorCode.validation_failed,
    'The request could not be read',
  );
}

/** An unreachable dependency: 503 with Retry-After, whatever route met it. */
export function outageProblem(
  code: ErrorCode.database_unavailable | ErrorCode.queue_unavailable | ErrorCode.key_manager_unavailable,
  detail: string,
): ProblemError {
  return new ProblemError(503, code, detail, undefined, { 'Retry-After': String(RETRY_AFTER_SECONDS) });
}

function internalError(): ProblemError {
  return new ProblemError(500, ErrorCode.internal_error, 'Internal error');
}

/**
 * Anything thrown, as a problem. Unknown errors, and ciphertext of ours that does not open (stored data: never
 * the client's fault), are a bare 500 without internals.
 */
/** A quota a repository refused in SQL: 413 for storage (the body is too large for the room left), else 403. */
export function quotaProblem(err: QuotaExceededError): ProblemError {
  return new ProblemError(
    err.quota === 'storage_bytes' ? 413 : 403,
    ErrorCode.quota_exceeded,
    `Quota ${err.quota} reached (${err.limit}); see GET /v1/servers/:id/usage`,
    [{ field: err.quota, code: 'quota_exceeded', message: `at most ${err.limit}` }],
  );
}

export function problemOf(err: unknown): ProblemError {
  if (err instanceof ProblemError) return err;
  if (isQuotaExceededError(err)) return quotaProblem(err);
  if (err instanceof PermissionsError) return permissionsProblem(err);
  if (err instanceof KeyManagerError) return keyManagerProblem(err);
  if (err instanceof InferenceError) return inferenceProblem(err);
  // Outages before the generic socket codes: Redis' errors are its own, Postgres' include plain ECONNREFUSED.
  if (isQueueUnavailable(err))
    return outageProblem(ErrorCode.queue_unavailable, 'The queue (Redis) is unavailable; try again');
  if (isDatabaseUnavailable(err))
    return outageProblem(ErrorCode.database_unavailable, 'The database is unavailable; try again');
  if (err instanceof ZodError) return ProblemError.validation(zodFieldErrors(err));
  if (isCryptoError(err)) return internalError();
  if (err && typeof err === 'object') {
    const parsed = frameworkProblem(err);
    if (parsed) return parsed;
  }
  if (err instanceof HttpException) return httpExceptionProblem(err);
  return internalError();
}
