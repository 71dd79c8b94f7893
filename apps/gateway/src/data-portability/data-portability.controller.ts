import { Controller, Delete, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ErrorCode } from '@hearth/errors';
import { isId } from '@hearth/ids';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { RawBody } from '../common/content-type.guard';
import { DataPortabilityService, type DpRequest, parseScope } from './data-portability.service';
import { DpError, sendDpError } from './dp-error';

/** POST routes of the protocol read their body themselves: its exact bytes are what `bodyHash` covers. */
export const DP_RAW_BODY_PATH = /^\/dp\/[^/]+\/v1\/(data\/[^/]+|grants\/verify)\/?$/;

const page = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
};
const listQuery = z.object({ ...page, scopePrefix: z.string().max(160).optional() });
const pageQuery = z.object(page);
const readQuery = z.object({
  fileId: z.string().max(100).optional(),
  at: z.string().max(40).optional(),
});

function parseQuery<T extends z.ZodTypeAny>(schema: T, query: unknown): z.infer<T> {
  const parsed = schema.safeParse(query ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.') || 'query';
    throw new DpError(400, ErrorCode.validation_failed, `${field}: ${issue.message}`, 400, { field });
  }
  return parsed.data as z.infer<T>;
}

/** Reads the raw body up to `limit` bytes (413 beyond); no Content-Encoding (the hash covers the bytes sent). */
async function rawBody(req: FastifyRequest, limit: number): Promise<Buffer> {
  if (req.headers['content-encoding'] && req.headers['content-encoding'] !== 'identity') {
    req.raw.resume();
    throw new DpError(
      415,
      ErrorCode.unsupported_content_encoding,
      'Send the body without Content-Encoding',
      415,
    );
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.raw as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.raw.resume();
      throw new DpError(413, ErrorCode.payload_too_large, `Documents are limited to ${limit} bytes`, 413);
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/**
 * The Data Portability Protocol's Personal Server API (spec §4.1.5), one per hosted personal server under
 * `/dp/{serverId}` (or at the root of `{serverId}<DP_HOST_SUFFIX>`). Answers in the protocol's shapes, errors
 * included (dp-error.ts); documented in docs/data-portability.md rather than the Hearth OpenAPI.
 */
@ApiExcludeController()
@Controller('dp/:serverId')
export class DataPortabilityController {
  constructor(private readonly dp: DataPortabilityService) {}

  private request(req: FastifyRequest, serverId: string, body?: Buffer): DpRequest {
    return {
      serverId,
      method: req.method,
      // The request-target as the client sent it (before a per-server host name was rewritten to /dp/…).
      uri: req.originalUrl,
      host: req.headers.host,
      authorization: req.headers.authorization,
      ip: req.ip,
      body,
    };
  }

  private async run(req: FastifyRequest, reply: FastifyReply, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      sendDpError(req, reply, err);
    }
  }

  @Get('health')
  async health(@Param('serverId') serverId: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    await this.run(req, reply, async () => {
      const server = await this.dp.server(serverId);
      await reply.send(await this.dp.health(server));
    });
  }

  @Post('v1/data/:scope')
  @RawBody()
  async ingest(
    @Param('serverId') serverId: string,
    @Param('scope') rawScope: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    await this.run(req, reply, async () => {
      const server = await this.dp.server(serverId);
      // The body is read before the signature is checked (bodyHash covers it), but never without a credential.
      if (!req.headers.authorization) {
        req.raw.resume();
        throw new DpError(401, ErrorCode.dp_auth_missing, "This route is the server owner's: sign it", 401);
      }
      const body = await rawBody(req, this.dp.maxDocumentBytes);
      await this.dp.owner(server, this.request(req, serverId, body));
      const scope = parseScope(rawScope);
      const stored = await this.dp.ingest(server, scope, body, req.headers['content-type']);
      await reply
        .status(201)
        .send({ scope: stored.scope, collectedAt: stored.collectedAt, status: stored.status });
    });
  }

  @Get('v1/data')
  async list(@Param('serverId') serverId: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    await this.run(req, reply, async () => {
      const server = await this.dp.server(serverId);
      const caller = await this.dp.authenticate(server, this.request(req, serverId));
      await this.dp.requireRegisteredBuilder(caller);
      const query = parseQuery(listQuery, req.query);
      if (query.scopePrefix !== undefined && !/^[a-z0-9_.-]+$/.test(query.scopePrefix)) {
        throw new DpError(400, ErrorCode.dp_scope_invalid, 'scopePrefix is not a scope prefix', 400, {
          field: 'scopePrefix',
        });
      }
      await reply.send(await this.dp.listScopes(server, caller, query));
    });
  }

  @Get('v1/data/:scope')
  async read(
    @Param('serverId') serverId: string,
    @Param('scope') rawScope: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    await this.run(req, reply, async () => {
      const server = await this.dp.server(serverId);
      const caller = await this.dp.authenticate(server, this.request(req, serverId));
      const scope = parseScope(rawScope);
      const query = parseQuery(readQuery, req.query);
      if (query.fileId !== undefined && !isId('fil', query.fileId)) {
        throw new DpError(404, ErrorCode.dp_data_not_found, 'No such version', 404, { field: 'fileId' });
      }
      const at = query.at === undefined ? undefined : new Date(query.at);
      if (at && Number.isNaN(at.getTime())) {
        throw new DpError(400, ErrorCode.validation_failed, 'at must be an ISO 8601 time', 400, {
          field: 'at',
        });
      }
      const result = await this.dp.read(server, caller, scope, { fileId: query.fileId, at });
      if (result.receiptHash) void reply.header('Hearth-Receipt-Hash', result.receiptHash);
      if (result.logId) void reply.header('Hearth-Access-Log-Id', result.logId);
      await reply.type('application/json').send(result.body);
    });
  }

  @Get('v1/data/:scope/versions')
  async versions(
    @Param('serverId') serverId: string,
    @Param('scope') rawScope: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    await this.run(req, reply, async () => {
      const server = await this.dp.server(serverId);
      const caller = await this.dp.authenticate(server, this.request(req, serverId));
      await this.dp.requireRegisteredBuilder(caller);
      const scope = parseScope(rawScope);
      await reply.send(await this.dp.versions(server, caller, scope, parseQuery(pageQuery, req.query)));
    });
  }

  @Delete('v1/data/:scope')
  async remove(
    @Param('serverId') serverId: string,
    @Param('scope') rawScope: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    await this.run(req, reply, async () => {
      const server = await this.dp.server(serverId);
      await this.dp.owner(server, this.request(req, serverId));
      await reply.send(await this.dp.deleteScope(server, parseScope(rawScope)));
    });
  }

  @Get('v1/grants')
  async grants(@Param('serverId') serverId: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    await this.run(req, reply, async () => {
      const server = await this.dp.server(serverId);
      await this.dp.owner(server, this.request(req, serverId));
      await reply.send(await this.dp.grants(server));
    });
  }

  @Post('v1/grants/verify')
  @RawBody()
  async verify(@Param('serverId') serverId: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    await this.run(req, reply, async () => {
      const server = await this.dp.server(serverId);
      const body = await rawBody(req, 64 * 1024);
      await this.dp.owner(server, this.request(req, serverId, body));
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        throw new DpError(400, ErrorCode.malformed_json, 'The body is not valid JSON', 400, {
          field: 'body',
        });
      }
      const grantId =
        parsed && typeof parsed === 'object' ? (parsed as { grantId?: unknown }).grantId : undefined;
      await reply.send(await this.dp.verifyGrant(server, grantId));
    });
  }

  @Get('v1/access-logs')
  async accessLogs(
    @Param('serverId') serverId: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    await this.run(req, reply, async () => {
      const server = await this.dp.server(serverId);
      await this.dp.owner(server, this.request(req, serverId));
      await reply.send(await this.dp.accessLogs(server, parseQuery(pageQuery, req.query)));
    });
  }
}
