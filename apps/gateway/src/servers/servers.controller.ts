import { Controller, Delete, Get, HttpCode, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { type Page, paginationQuery } from '@hearth/db';
import { parseOrThrow } from '@hearth/errors';
import type { SessionAccount } from '../auth/auth.types';
import { CurrentAccount } from '../auth/current.decorators';
import { ServerAccessService } from '../auth/server-access.service';
import { SessionGuard } from '../auth/session.guard';
import { SERVER_VIEW_SCHEMA, toServerView, type ServerView } from './server.view';
import { ServersService } from './servers.service';
import { ApiPaginated } from '../common/api-paginated';

@ApiTags('servers')
@ApiBearerAuth('session')
@UseGuards(SessionGuard)
@Controller('v1/servers')
export class ServersController {
  constructor(
    private readonly service: ServersService,
    private readonly access: ServerAccessService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'My servers: the ones I own and the collectives I am a member of' })
  @ApiPaginated()
  @ApiResponse({
    status: 200,
    schema: {
      type: 'object',
      properties: {
        items: { type: 'array', items: SERVER_VIEW_SCHEMA },
        nextCursor: { type: 'string', nullable: true },
      },
    },
  })
  list(@CurrentAccount() account: SessionAccount, @Query() query: unknown): Promise<Page<ServerView>> {
    return this.service.list(account, parseOrThrow(paginationQuery, query, 'query'));
  }

  @Get(':id')
  @ApiOperation({ summary: 'A server: its identity (address, public key), owner and policy' })
  @ApiParam({ name: 'id', description: 'Server id (srv_…)' })
  @ApiResponse({ status: 200, schema: SERVER_VIEW_SCHEMA })
  async get(@CurrentAccount() account: SessionAccount, @Param('id') id: string): Promise<ServerView> {
    const { server } = await this.access.requireServerMember(account, id);
    return toServerView(server);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a server (owner only): destroys its key first (crypto-shredding), then its rows',
  })
  @ApiParam({ name: 'id', description: 'Server id (srv_…)' })
  @ApiResponse({ status: 204 })
  async delete(@CurrentAccount() account: SessionAccount, @Param('id') id: string): Promise<void> {
    const server = await this.access.requireOwnedServer(account, id);
    await this.service.delete(server);
  }
}
