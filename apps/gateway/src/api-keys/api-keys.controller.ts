import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { type Page, paginationQuery } from '@hearth/db';
import { parseOrThrow } from '@hearth/errors';
import type { SessionAccount } from '../auth/auth.types';
import { CurrentAccount } from '../auth/current.decorators';
import { ServerAccessService } from '../auth/server-access.service';
import { SessionGuard } from '../auth/session.guard';
import { openApiSchema } from '../common/zod-openapi';
import { API_KEY_VIEW_SCHEMA, type ApiKeyView, createApiKeyBody } from './api-keys.dto';
import { ApiKeysService } from './api-keys.service';
import { ApiPaginated } from '../common/api-paginated';

/** Owner routes. The server check comes before reading the body or query, so strangers learn nothing. */
@ApiTags('api-keys')
@ApiBearerAuth('session')
@UseGuards(SessionGuard)
@ApiParam({ name: 'id', description: 'Server id (srv_…)' })
@Controller('v1/servers/:id/api-keys')
export class ApiKeysController {
  constructor(
    private readonly service: ApiKeysService,
    private readonly access: ServerAccessService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an API key for an app; the secret is shown this once' })
  @ApiBody({ schema: openApiSchema(createApiKeyBody) })
  @ApiResponse({
    status: 201,
    schema: {
      ...API_KEY_VIEW_SCHEMA,
      properties: { ...API_KEY_VIEW_SCHEMA.properties, key: { type: 'string' } },
    },
  })
  async create(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<ApiKeyView & { key: string }> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.service.create(server.id, parseOrThrow(createApiKeyBody, body ?? {}));
  }

  @Get()
  @ApiOperation({ summary: "A server's API keys (no secrets)" })
  @ApiPaginated()
  @ApiResponse({
    status: 200,
    schema: {
      type: 'object',
      properties: {
        items: { type: 'array', items: API_KEY_VIEW_SCHEMA },
        nextCursor: { type: 'string', nullable: true },
      },
    },
  })
  async list(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<Page<ApiKeyView>> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.service.list(server.id, parseOrThrow(paginationQuery, query, 'query'));
  }

  @Delete(':keyId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key (it stops working at once)' })
  @ApiParam({ name: 'keyId', description: 'API key id (key_…)' })
  @ApiResponse({ status: 204 })
  async revoke(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Param('keyId') keyId: string,
  ): Promise<void> {
    const server = await this.access.requireOwnedServer(account, id);
    await this.service.revoke(server.id, keyId);
  }

  @Post(':keyId/rotate')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'New secret for the same key id; the old secret keeps working for API_KEY_ROTATION_GRACE_SECONDS (default 24 h)',
  })
  @ApiParam({ name: 'keyId', description: 'API key id (key_…)' })
  @ApiResponse({
    status: 200,
    schema: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        key: { type: 'string' },
        previousKeyExpiresAt: { type: 'string', format: 'date-time', nullable: true },
      },
    },
  })
  async rotate(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Param('keyId') keyId: string,
  ): Promise<{ id: string; key: string; previousKeyExpiresAt: string | null }> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.service.rotate(server.id, keyId);
  }
}
