import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { ErrorCode, ProblemError, type ProblemDocument } from '@hearth/errors';
import type { Request, Response } from 'express';

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

/** Errors raised by body parsers (they carry `type` and `status`). */
interface BodyParserError {
  type?: string;
  status?: number;
}

/** Maps anything thrown to an RFC 9457 problem; unknown errors become a bare 500 without internals. */
export function toProblem(err: unknown): { problem: ProblemDocument; headers?: Record<string, string> } {
  if (err instanceof ProblemError) return { problem: err.toProblem(), headers: err.headers };
  const parserError = err as BodyParserError;
  if (parserError && typeof parserError === 'object' && typeof parserError.type === 'string') {
    switch (parserError.type) {
      case 'entity.parse.failed':
        return {
          problem: new ProblemError(
            400,
            ErrorCode.malformed_json,
            'The request body is not valid JSON',
          ).toProblem(),
        };
      case 'entity.too.large':
        return {
          problem: new ProblemError(
            413,
            ErrorCode.payload_too_large,
            'The request body is too large',
          ).toProblem(),
        };
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return {
          problem: new ProblemError(
            415,
            ErrorCode.unsupported_media_type,
            'Unsupported body encoding',
          ).toProblem(),
        };
      default:
        break;
    }
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const code =
      STATUS_CODES[status] ?? (status >= 500 ? ErrorCode.internal_error : ErrorCode.validation_failed);
    const detail = status === 404 ? 'No such route' : status >= 500 ? 'Internal error' : err.message;
    return { problem: new ProblemError(status, code, detail).toProblem() };
  }
  return { problem: new ProblemError(500, ErrorCode.internal_error, 'Internal error').toProblem() };
}

export function sendProblem(req: Request, res: Response, err: unknown, logger?: Logger): void {
  const { problem, headers } = toProblem(err);
  if (problem.status >= 500 && logger) {
    // Log the error class and message only: stack traces stay out of responses, data stays out of logs.
    logger.error(
      {
        err: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
      },
      'unhandled error',
    );
  }
  if (res.headersSent) {
    res.end();
    return;
  }
  const requestId = (req as Request & { id?: unknown }).id;
  const body: ProblemDocument = {
    ...problem,
    instance: req.originalUrl?.split('?')[0],
    ...(typeof requestId === 'string' ? { requestId } : {}),
  };
  for (const [name, value] of Object.entries(headers ?? {})) res.setHeader(name, value);
  res.status(problem.status).type('application/problem+json').send(JSON.stringify(body));
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    sendProblem(ctx.getRequest<Request>(), ctx.getResponse<Response>(), exception, this.logger);
  }
}
