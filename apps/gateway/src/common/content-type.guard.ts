import { type CanActivate, type ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ErrorCode, ProblemError } from '@hearth/errors';
import type { FastifyRequest } from 'fastify';

const RAW_BODY = 'hearth:raw-body';

/** Marks a route that reads the request stream itself (file uploads) instead of a JSON body. */
export const RawBody = (): MethodDecorator => SetMetadata(RAW_BODY, true);

/** A JSON route given a body of another type gets 415, not a confusing validation error. */
@Injectable()
export class ContentTypeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(RAW_BODY, [context.getHandler(), context.getClass()]))
      return true;
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    if (!['POST', 'PUT', 'PATCH'].includes(req.method)) return true;
    const hasBody =
      Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) return true;
    if (!isApplicationJson(req.headers['content-type'])) {
      throw new ProblemError(415, ErrorCode.unsupported_media_type, 'This endpoint takes application/json', [
        { field: 'Content-Type', code: 'unsupported', message: 'must be application/json' },
      ]);
    }
    return true;
  }
}

/** `application/json`, with or without parameters (what `Content-Type` must say on a JSON route). */
function isApplicationJson(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0].trim().toLowerCase() === 'application/json';
}
