import { type ArgumentsHost, Catch, type ExceptionFilter, Logger, NotFoundException } from '@nestjs/common';
import { ErrorCode, ProblemError, type ProblemDocument } from '@hearth/errors';
import type { Request, Response } from 'express';
import { problemOf } from './library-errors';

/** Maps anything thrown to an RFC 9457 problem (the mapping itself lives in library-errors). */
export function toProblem(err: unknown): { problem: ProblemDocument; headers?: Record<string, string> } {
  const problem = problemOf(err);
  return { problem: problem.toProblem(), headers: problem.headers };
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

interface RouteLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
  match(path: string): boolean;
}

/** Methods the app's routes answer at this path (Express 5's router), for a 405's Allow header. */
export function allowedMethods(req: Request): string[] {
  // why cast: Express types do not expose the router's layers; Express 5 keeps them at app.router.stack.
  const stack = (req.app as unknown as { router?: { stack?: RouteLayer[] } }).router?.stack ?? [];
  const methods = new Set<string>();
  for (const layer of stack) {
    // Catch-all routes (Nest's own not-found handler, `/{*path}`) match everything and say nothing.
    if (!layer.route || String(layer.route.path).includes('*') || !layer.match(req.path)) continue;
    for (const method of Object.keys(layer.route.methods))
      if (method !== '_all') methods.add(method.toUpperCase());
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    sendProblem(
      req,
      ctx.getResponse<Response>(),
      this.methodNotAllowed(exception, req) ?? exception,
      this.logger,
    );
  }

  /** Nest answers an unknown method on a known path as a missing route; it is a 405 naming what the path allows. */
  private methodNotAllowed(exception: unknown, req: Request): ProblemError | undefined {
    if (!(exception instanceof NotFoundException) || !/^Cannot [A-Z]+ /.test(exception.message))
      return undefined;
    const allowed = allowedMethods(req);
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
