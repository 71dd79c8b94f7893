import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { ErrorCode, ProblemError, type ProblemDocument } from '@hearth/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RouteTable } from '../http/route-table';

const STATUS_CODES: Record<number, ErrorCode> = {
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

/** Fastify's own request errors carry a status code (e.g. a body over its limit, a malformed header). */
interface FrameworkError {
  code?: string;
  statusCode?: number;
}

/** Maps anything thrown to an RFC 9457 problem; unknown errors become a bare 500 without internals. */
export function toProblem(err: unknown): { problem: ProblemDocument; headers?: Record<string, string> } {
  if (err instanceof ProblemError) return { problem: err.toProblem(), headers: err.headers };
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const code =
      STATUS_CODES[status] ?? (status >= 500 ? ErrorCode.internal_error : ErrorCode.validation_failed);
    const detail = status === 404 ? 'No such route' : status >= 500 ? 'Internal error' : err.message;
    return { problem: new ProblemError(status, code, detail).toProblem() };
  }
  const framework = err as FrameworkError;
  if (
    framework &&
    typeof framework === 'object' &&
    typeof framework.code === 'string' &&
    framework.code.startsWith('FST_') &&
    typeof framework.statusCode === 'number' &&
    framework.statusCode >= 400 &&
    framework.statusCode < 500
  ) {
    const status = framework.statusCode;
    const code = STATUS_CODES[status] ?? ErrorCode.validation_failed;
    return { problem: new ProblemError(status, code, 'The request could not be read').toProblem() };
  }
  return { problem: new ProblemError(500, ErrorCode.internal_error, 'Internal error').toProblem() };
}

export function sendProblem(req: FastifyRequest, reply: FastifyReply, err: unknown, logger?: Logger): void {
  const { problem, headers } = toProblem(err);
  if (problem.status >= 500 && logger) {
    // Log the error class and message only: stack traces stay out of responses, data stays out of logs.
    logger.error(
      {
        reqId: req.id,
        err: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
      },
      'unhandled error',
    );
  }
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.end();
    return;
  }
  const body: ProblemDocument = {
    ...problem,
    instance: req.url.split('?')[0],
    requestId: req.id,
  };
  void reply
    .status(problem.status)
    .headers(headers ?? {})
    .type('application/problem+json')
    .send(JSON.stringify(body));
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  constructor(private readonly routes: RouteTable) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<FastifyRequest>();
    sendProblem(
      req,
      ctx.getResponse<FastifyReply>(),
      this.methodNotAllowed(exception, req) ?? exception,
      this.logger,
    );
  }

  /** A known path asked with a method it does not take is a 405 naming what the path allows. */
  private methodNotAllowed(exception: unknown, req: FastifyRequest): ProblemError | undefined {
    if (!(exception instanceof NotFoundException) || !/^Cannot [A-Z]+ /.test(exception.message))
      return undefined;
    const allowed = this.routes.allowed(req.url.split('?')[0]);
    if (allowed.length === 0) return undefined;
    return new ProblemError(
      405,
      ErrorCode.method_not_allowed,
      `${req.method} is not allowed here; this path takes ${allowed.join(', ')}`,
      undefined,
      { Allow: allowed.join(', ') },
    );
  }
}
