import {
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ENVELOPE_CONTENT_TYPE } from '@hearth/crypto';
import { type FileEntity, type Page, paginationQuery } from '@hearth/db';
import { parseOrThrow } from '@hearth/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SessionAccount } from '../auth/auth.types';
import { CurrentAccount } from '../auth/current.decorators';
import { ServerAccessService } from '../auth/server-access.service';
import { SessionGuard, sessionTokenHashOf } from '../auth/session.guard';
import { RawBody } from '../common/content-type.guard';
import { FILE_VIEW_SCHEMA, type FileMeta, type FileView, uploadQuery } from './files.dto';
import { FilesService } from './files.service';
import { ApiPaginated } from '../common/api-paginated';

/** The upload route reads the raw request stream; the JSON body parser must leave it alone. */
export const UPLOAD_PATH = /^\/v1\/servers\/[^/]+\/files\/?$/;

@ApiTags('files')
@ApiBearerAuth('session')
@UseGuards(SessionGuard)
@ApiParam({ name: 'id', description: 'Server id (srv_…)' })
@Controller('v1/servers/:id/files')
export class FilesController {
  constructor(
    private readonly files: FilesService,
    private readonly access: ServerAccessService,
  ) {}

  @Post()
  @RawBody()
  @HttpCode(201)
  @ApiOperation({
    summary:
      'Upload a file: its bytes as the body (encrypted on arrival), or a client-side envelope stored as is',
    description: `With Content-Type ${ENVELOPE_CONTENT_TYPE} the body must be an envelope encrypted to this server's public key (byte format: libs/crypto/ENVELOPE.md); any other type is encrypted by the server.`,
  })
  @ApiConsumes('application/octet-stream', ENVELOPE_CONTENT_TYPE, 'text/plain')
  @ApiQuery({ name: 'name', required: true })
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiResponse({ status: 201, schema: FILE_VIEW_SCHEMA })
  async upload(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Query() query: unknown,
    @Req() req: FastifyRequest,
  ): Promise<FileView> {
    const { server } = await this.access.requireServerMember(account, id);
    const { name } = parseOrThrow(uploadQuery, query, 'query');
    return this.files.upload(server, account, name, req.raw);
  }

  @Get()
  @ApiOperation({
    summary: "Files' metadata, newest first (on a collective everyone, admins included, sees only their own)",
  })
  @ApiPaginated()
  async list(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<Page<FileView>> {
    const { server, role } = await this.access.requireServerMember(account, id);
    return this.files.list(server, role, account, parseOrThrow(paginationQuery, query, 'query'));
  }

  @Get(':fileId')
  @ApiParam({ name: 'fileId', description: 'fil_…' })
  @ApiOperation({ summary: "A file's metadata" })
  @ApiResponse({ status: 200, schema: FILE_VIEW_SCHEMA })
  async get(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Param('fileId') fileId: string,
  ): Promise<FileView> {
    const { server, role } = await this.access.requireServerMember(account, id);
    const file = await this.files.findReadable(server, role, account, fileId);
    return this.files.view(server, file);
  }

  @Delete(':fileId')
  @HttpCode(204)
  @ApiParam({ name: 'fileId', description: 'fil_…' })
  @ApiOperation({ summary: 'Delete a file and its ciphertext' })
  async remove(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Param('fileId') fileId: string,
  ): Promise<void> {
    const { server, role } = await this.access.requireServerMember(account, id);
    await this.files.remove(server, role, account, fileId);
  }
}

/**
 * Downloads: the session is checked in the same statement as the reader's role and the file (see
 * FilesService.openForReader), so this route takes no guard of its own; it answers exactly as a guarded one.
 */
@ApiTags('files')
@ApiBearerAuth('session')
@ApiParam({ name: 'id', description: 'Server id (srv_…)' })
@Controller('v1/servers/:id/files')
export class FileContentController {
  constructor(private readonly files: FilesService) {}

  @Get(':fileId/content')
  @ApiParam({ name: 'fileId', description: 'fil_…' })
  @ApiProduces('application/octet-stream')
  @ApiOperation({
    summary:
      "The bytes (a personal server's owner; on a collective its contributing member only), streamed; logged in the access log",
  })
  async content(
    @Headers('authorization') authorization: string | undefined,
    @Param('id') id: string,
    @Param('fileId') fileId: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const tokenHash = sessionTokenHashOf(authorization);
    // Fastify answers HEAD with this GET route: a HEAD reads nothing, so it decrypts and logs nothing.
    if (req.method === 'HEAD') {
      const { file, meta } = await this.files.describeForReader(tokenHash, id, fileId);
      // Raw, so the Content-Length is the one a GET would send, not that of the empty body.
      reply.hijack();
      reply.raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        ...contentHeaders(file, meta),
      });
      reply.raw.end();
      return;
    }
    const { file, meta, body, logged } = await this.files.openForReader(tokenHash, id, fileId);
    const headers = contentHeaders(file, meta);
    if (Buffer.isBuffer(body)) {
      // The bytes go out at once; the response ends only once the access-log row is stored, else it is cut.
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        ...headers,
        'Content-Length': String(body.length),
      });
      res.write(body);
      await logged.then(
        () => res.end(),
        () => res.destroy(),
      );
      return;
    }
    // A body that fails midway (tampered ciphertext, the access-log row not stored) cuts the response short.
    await reply.status(200).headers(headers).send(body);
  }
}

function contentHeaders(file: FileEntity, meta: FileMeta): Record<string, string> {
  return {
    'Content-Type': meta.contentType,
    'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(meta.name)}`,
    'Cache-Control': 'no-store',
    ...(file.encryption === 'server' ? { 'Content-Length': String(file.size) } : {}),
  };
}
