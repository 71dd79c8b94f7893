import { ErrorCode, ProblemError } from '@hearth/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { problemOf } from '../common/library-errors';

/**
 * A refusal on a Data Portability route. The protocol's routes answer in the protocol's error shape (spec §8.3:
 * `{error: {code, message, details}}`, code from §8.2), not Hearth's problem+json: `code` is the protocol's
 * number, `errorCode` Hearth's stable code (as personal-server-ts adds one), the HTTP status the one a client
 * should act on (403 for the grant codes 410/411/412, whose HTTP meanings are something else).
 */
export class DpError extends ProblemError {
  constructor(
    status: number,
    code: ErrorCode,
    detail: string,
    readonly protocolCode: number = status,
    readonly details: Record<string, unknown> = {},
    headers?: Record<string, string>,
  ) {
    super(status, code, detail, undefined, headers);
    this.name = 'DpError';
  }
}

export interface DpErrorBody {
  error: {
    code: number;
    errorCode: string;
    message: string;
    details: Record<string, unknown>;
  };
}

/** Any error as the protocol's error body, its HTTP status and headers (an outage keeps its Retry-After). */
export function dpErrorOf(
  err: unknown,
  requestId: string,
): { status: number; body: DpErrorBody; headers: Record<string, string> } {
  const problem = err instanceof DpError ? err : problemOf(err);
  const details: Record<string, unknown> = {
    ...(err instanceof DpError ? err.details : {}),
    ...(problem.errors?.length ? { errors: problem.errors } : {}),
    requestId,
  };
  return {
    status: problem.status,
    headers: problem.headers ?? {},
    body: {
      error: {
        code: err instanceof DpError ? err.protocolCode : problem.status,
        errorCode: problem.code,
        message: problem.detail,
        details,
      },
    },
  };
}

/** Sends the protocol's error body (the route's own reply, never Hearth's problem filter). */
export function sendDpError(req: FastifyRequest, reply: FastifyReply, err: unknown): void {
  const { status, body, headers } = dpErrorOf(err, req.id);
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return;
  }
  void reply.status(status).headers(headers).type('application/json').send(JSON.stringify(body));
}

/** 503 with Retry-After: the registries or the DP gateway are unreachable, so access is denied for now. */
export function dpUnavailable(
  code: ErrorCode.dp_registry_unavailable | ErrorCode.dp_gateway_unavailable,
  detail: string,
): DpError {
  return new DpError(503, code, detail, 503, {}, { 'Retry-After': '5' });
}
