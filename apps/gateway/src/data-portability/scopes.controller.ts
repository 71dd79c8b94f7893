import { Body, Controller, Get, Param, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorCode, parseOrThrow, ProblemError } from '@hearth/errors';
import { z } from 'zod';
import type { SessionAccount } from '../auth/auth.types';
import { CurrentAccount } from '../auth/current.decorators';
import { ServerAccessService } from '../auth/server-access.service';
import { SessionGuard } from '../auth/session.guard';
import { openApiSchema } from '../common/zod-openapi';
import { DataPortabilityService, parseScope } from './data-portability.service';
import { DpError } from './dp-error';

const readableBody = z.object({ readable: z.boolean() }).strict();

const SCOPE_SETTING_SCHEMA = {
  type: 'object',
  required: ['scope', 'readable', 'versions', 'latestCollectedAt'],
  properties: {
    scope: { type: 'string', example: 'instagram.profile' },
    readable: { type: 'boolean', description: 'builders holding a grant may read its raw documents' },
    versions: { type: 'integer' },
    latestCollectedAt: { type: 'string', format: 'date-time', nullable: true },
  },
};

/** A scope name in a Hearth route: a problem+json 400 naming the field (these are Hearth's routes). */
function scopeParam(raw: string): string {
  try {
    return parseScope(raw);
  } catch (err) {
    if (err instanceof DpError) {
      throw ProblemError.validation([{ field: 'scope', code: 'invalid_format', message: 'not a scope' }]);
    }
    throw err;
  }
}

/**
 * Hearth's side of the Data Portability scopes: which scopes builders may read raw (off until the owner turns it
 * on, per scope, revocable). Owner session routes in Hearth's own API and problem+json.
 */
@ApiTags('data-portability')
@ApiBearerAuth('session')
@UseGuards(SessionGuard)
@ApiParam({ name: 'id', description: 'Server id (srv_…)' })
@Controller('v1/servers/:id/data-portability/scopes')
export class DataPortabilityScopesController {
  constructor(
    private readonly dp: DataPortabilityService,
    private readonly access: ServerAccessService,
  ) {}

  @Get()
  @ApiOperation({ summary: "The server's Data Portability scopes and whether builders may read each raw" })
  @ApiResponse({
    status: 200,
    schema: { type: 'object', properties: { items: { type: 'array', items: SCOPE_SETTING_SCHEMA } } },
  })
  async list(@CurrentAccount() account: SessionAccount, @Param('id') id: string) {
    const server = await this.access.requireOwnedServer(account, id);
    if (server.kind !== 'personal') throw ProblemError.notFound('server');
    return { items: await this.dp.scopeSettings(server) };
  }

  @Put(':scope')
  @ApiOperation({
    summary: 'Let builders holding a grant read a scope raw, or stop them (readable: false, the default)',
  })
  @ApiParam({ name: 'scope', description: 'Scope, e.g. instagram.profile' })
  @ApiBody({ schema: openApiSchema(readableBody) })
  @ApiResponse({
    status: 200,
    schema: {
      type: 'object',
      required: ['scope', 'readable', 'updatedAt'],
      properties: {
        scope: { type: 'string' },
        readable: { type: 'boolean' },
        updatedAt: { type: 'string', format: 'date-time' },
      },
    },
  })
  async set(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Param('scope') rawScope: string,
    @Body() body: unknown,
  ) {
    const server = await this.access.requireOwnedServer(account, id);
    if (server.kind !== 'personal') {
      throw new ProblemError(404, ErrorCode.not_found, 'No such personal server');
    }
    const scope = scopeParam(rawScope);
    const { readable } = parseOrThrow(readableBody, body ?? {});
    return this.dp.setReadable(server, scope, readable);
  }
}
