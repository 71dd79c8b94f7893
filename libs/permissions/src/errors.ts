import type { ErrorCodeSubset } from '@hearth/errors';
import {
  BaseError,
  ContractFunctionRevertedError,
  HttpRequestError,
  TimeoutError,
  WebSocketRequestError,
} from 'viem';
import type { TypedDataFieldError } from './typed-data';

/** Codes are `ErrorCode` values of @hearth/errors (checked), so the gateway maps them one to one. */
export type PermissionsErrorCode = ErrorCodeSubset<
  | 'validation_failed'
  | 'invalid_signature'
  | 'signature_mismatch'
  | 'grant_not_found'
  | 'grant_invalid'
  | 'policy_invalid'
  | 'conflict'
  | 'forbidden'
  | 'chain_unavailable'
>;

/** A failure of a relayer call, with a stable code and (for validation) the fields at fault. */
export class PermissionsError extends Error {
  constructor(
    readonly code: PermissionsErrorCode,
    message: string,
    readonly fieldErrors: TypedDataFieldError[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PermissionsError';
  }
}

/** True when the error is the RPC endpoint being unreachable or slow, not an answer from the chain. */
export function isTransportError(err: unknown): boolean {
  if (!(err instanceof BaseError)) {
    return (
      err instanceof Error &&
      (err.name === 'AbortError' || err.name === 'TimeoutError' || err.name === 'TypeError')
    );
  }
  return (
    err.walk(
      (e) => e instanceof HttpRequestError || e instanceof TimeoutError || e instanceof WebSocketRequestError,
    ) !== null
  );
}

/** The custom error a contract call reverted with (name and args), if that is what happened. */
export function revertOf(err: unknown): { errorName: string; args: readonly unknown[] } | undefined {
  if (!(err instanceof BaseError)) return undefined;
  const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError && reverted.data) {
    return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
  }
  return undefined;
}

/** Whether a contract call failed because the contract answered badly (revert, no code, bad data). */
export function isContractAnswerError(err: unknown): boolean {
  return err instanceof BaseError && !isTransportError(err);
}
