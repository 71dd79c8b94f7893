import { OperationErrorCode } from '@hearth/errors';

/**
 * The code an operation ends with when BullMQ gave up on its job: a deterministic failure (thrown as
 * UnrecoverableError, failed at once) could not be run; anything else failed on outages until its attempts or
 * stalls were used up.
 */
export function giveUpCode(err: { name?: string; message?: string } | undefined): {
  code: OperationErrorCode;
  detail: string;
} {
  const stalled = /stalled more than allowable limit/.test(err?.message ?? '');
  if (err?.name === 'UnrecoverableError' && !stalled) {
    return {
      code: OperationErrorCode.execution_failed,
      detail: 'the operation could not be run; retrying cannot help',
    };
  }
  return {
    code: OperationErrorCode.retry_budget_exhausted,
    detail: stalled
      ? 'its worker died too often while running it; retries are exhausted'
      : 'every attempt failed on an outage; retries are exhausted',
  };
}
