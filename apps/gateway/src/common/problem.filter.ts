import { type ArgumentsHost, Catch, type ExceptionFilter, Logger, NotFoundException } from '@nestjs/common';
import { ErrorCode, ProblemError, type ProblemDocument } from '@hearth/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RouteTable } from '../http/route-table';
import { problemOf } from './library-errors';

/** Maps anything thrown to an RFC 9457 problem (the mapping itself lives in library-errors). */
export function toProblem(err: unknown): { problem: ProblemDocument; headers?: Record<string, string> } {
  const problem = problemOf(err);
  return { problem: problem.toProblem(), headers: problem.headers };
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
