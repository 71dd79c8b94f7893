import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { ApiKeyRepository } from '@hearth/db';
import { ErrorCode, ProblemError } from '@hearth/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthedRequest } from '../auth/auth.types';
import { DataPortabilityService } from '../data-portability/data-portability.service';
import { rawJsonBodyOf } from '../http/json-body';

/** The per-server MCP endpoint, where a request may be Web3Signed (its `aud` and `uri` name one server). */
export const MCP_SERVER_PATH = /^\/v1\/servers\/[^/]+\/mcp\/?$/;

export function isWeb3Signed(authorization: string | undefined): boolean {
  return /^Web3Signed\s/i.test(authorization ?? '');
}

/**
 * MCP's two credentials. `Bearer hth_live_…` is the API key (ApiKeyGuard). `Web3Signed …` (the Data Portability
 * Protocol's header: aud, method, uri, bodyHash over the exact body, iat/exp, accepted once) proves the app's
 * wallet on `/v1/servers/:serverId/mcp`; the request then runs under that app's newest usable API key on the server
 * (its operations, origins and rate limit), so both credentials reach the same grants and leave the same records.
 */
@Injectable()
export class McpAuthGuard implements CanActivate {
  constructor(
    private readonly apiKeyGuard: ApiKeyGuard,
    private readonly apiKeys: ApiKeyRepository,
    private readonly dp: DataPortabilityService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<AuthedRequest & FastifyRequest>();
    const authorization = req.headers.authorization;
    if (!isWeb3Signed(authorization)) return this.apiKeyGuard.canActivate(context);
    const { serverId } = req.params as { serverId?: string };
    if (!serverId) {
      throw new ProblemError(
        401,
        ErrorCode.unauthorized,
        'A Web3Signed MCP request goes to its server: POST /v1/servers/:serverId/mcp',
        undefined,
        { 'WWW-Authenticate': 'Bearer realm="hearth-api"' },
      );
    }
    const encoding = req.headers['content-encoding'];
    if (encoding && encoding !== 'identity') {
      // bodyHash covers the bytes sent: an encoded body would leave it ambiguous.
      throw new ProblemError(
        415,
        ErrorCode.unsupported_content_encoding,
        'Send a Web3Signed body unencoded',
        [{ field: 'Content-Encoding', code: 'unsupported', message: 'identity only with Web3Signed' }],
      );
    }
    const server = await this.dp.server(serverId);
    const caller = await this.dp.authenticate(server, {
      serverId,
      method: req.method,
      uri: req.originalUrl,
      host: req.headers.host,
      authorization,
      ip: req.ip,
      body: rawJsonBodyOf(req.raw),
    });
    const match = await this.apiKeys.findActiveForApp(server.id, caller.address);
    if (!match) {
      throw new ProblemError(
        403,
        ErrorCode.app_has_no_api_key,
        `The app ${caller.address} has no API key in use on this server: file an access request first`,
      );
    }
    await this.apiKeyGuard.admit(req, http.getResponse<FastifyReply>(), match);
    return true;
  }
}
