import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { type Page, paginationQuery } from '@hearth/db';
import { parseOrThrow } from '@hearth/errors';
import type { Hex } from 'viem';
import type { SessionAccount } from '../auth/auth.types';
import { CurrentAccount } from '../auth/current.decorators';
import { ServerAccessService } from '../auth/server-access.service';
import { SessionGuard } from '../auth/session.guard';
import { openApiSchema } from '../common/zod-openapi';
import { SERVER_VIEW_SCHEMA, type ServerView } from '../servers/server.view';
import {
  addMemberBody,
  createServerBody,
  DATASET_VIEW_SCHEMA,
  type DatasetView,
  MEMBER_VIEW_SCHEMA,
  privacyBody,
  type PrivacyView,
  type MemberView,
  signedWhitelistBody,
  whitelistTypedDataBody,
} from './collectives.dto';
import { CollectivesService } from './collectives.service';
import { ApiPaginated } from '../common/api-paginated';

/** `POST /v1/servers` (collectives only; personal servers are made at sign-in). Lives beside GET /v1/servers. */
@ApiTags('servers')
@ApiBearerAuth('session')
@UseGuards(SessionGuard)
@Controller('v1/servers')
export class CollectivesController {
  constructor(private readonly service: CollectivesService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary:
      'Create a collective: a shared server with its own key, identity and Whitelist contract (owned by you); you are its first admin',
  })
  @ApiBody({ schema: openApiSchema(createServerBody) })
  @ApiResponse({ status: 201, schema: SERVER_VIEW_SCHEMA })
  create(@CurrentAccount() account: SessionAccount, @Body() body: unknown): Promise<ServerView> {
    return this.service.create(account, parseOrThrow(createServerBody, body ?? {}));
  }
}

/** A collective's members. Admins add and remove; any member lists; a member may remove themself. */
@ApiTags('members')
@ApiBearerAuth('session')
@UseGuards(SessionGuard)
@ApiParam({ name: 'id', description: 'Server id (srv_…) of a collective' })
@Controller('v1/servers/:id/members')
export class MembersController {
  constructor(
    private readonly service: CollectivesService,
    private readonly access: ServerAccessService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Admit a member (admins only); the member gets a key of their own for their contributions',
  })
  @ApiBody({ schema: openApiSchema(addMemberBody) })
  @ApiResponse({ status: 201, schema: MEMBER_VIEW_SCHEMA })
  async add(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<MemberView> {
    const { server, role } = await this.access.requireServerMember(account, id);
    return this.service.addMember(server, role, body);
  }

  @Get()
  @ApiOperation({ summary: "The collective's members, oldest first" })
  @ApiPaginated()
  @ApiResponse({
    status: 200,
    schema: {
      type: 'object',
      properties: {
        items: { type: 'array', items: MEMBER_VIEW_SCHEMA },
        nextCursor: { type: 'string', nullable: true },
      },
    },
  })
  async list(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<Page<MemberView>> {
    const { server } = await this.access.requireServerMember(account, id);
    return this.service.listMembers(server, parseOrThrow(paginationQuery, query, 'query'));
  }

  @Delete(':address')
  @HttpCode(204)
  @ApiParam({ name: 'address', description: "The member's address (any case)" })
  @ApiOperation({
    summary:
      'Remove a member (admins; or a member leaving): their key is destroyed first (crypto-shredding), then their files',
  })
  async remove(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Param('address') address: string,
  ): Promise<void> {
    const { server, role } = await this.access.requireServerMember(account, id);
    await this.service.removeMember(server, role, account, address);
  }
}

/** Whitelist changes: the contract's owner signs, the platform relays (the owner pays no gas). */
@ApiTags('members')
@ApiBearerAuth('session')
@UseGuards(SessionGuard)
@ApiParam({ name: 'id', description: 'Server id (srv_…) of a collective' })
@Controller('v1/servers/:id/whitelist')
export class WhitelistController {
  constructor(
    private readonly service: CollectivesService,
    private readonly access: ServerAccessService,
  ) {}

  @Post('typed-data')
  @HttpCode(200)
  @ApiOperation({
    summary: 'EIP-712 typed data adding or removing an app, for the Whitelist owner to sign (admins)',
  })
  @ApiBody({ schema: openApiSchema(whitelistTypedDataBody) })
  async typedData(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<{ typedData: unknown }> {
    const { server, role } = await this.access.requireServerMember(account, id);
    return this.service.whitelistTypedData(server, role, body);
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: "Relay an owner-signed whitelist change to the collective's Whitelist contract (admins)",
  })
  @ApiBody({ schema: openApiSchema(signedWhitelistBody) })
  async relay(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<{ txHash: Hex }> {
    const { server, role } = await this.access.requireServerMember(account, id);
    return this.service.relayWhitelist(server, role, body);
  }
}

/** Datasets: immutable snapshots of the contribution set an admin publishes for aggregates to run over. */
@ApiTags('members')
@ApiBearerAuth('session')
@UseGuards(SessionGuard)
@ApiParam({ name: 'id', description: 'Server id (srv_…) of a collective' })
@Controller('v1/servers/:id/datasets')
export class DatasetsController {
  constructor(
    private readonly service: CollectivesService,
    private readonly access: ServerAccessService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Publish the current contribution set as the next dataset version (admins); it never changes',
  })
  @ApiResponse({ status: 201, schema: DATASET_VIEW_SCHEMA })
  async publish(@CurrentAccount() account: SessionAccount, @Param('id') id: string): Promise<DatasetView> {
    const { server, role } = await this.access.requireServerMember(account, id);
    return this.service.publishDataset(server, role, account);
  }

  @Get()
  @ApiOperation({ summary: "The collective's datasets, newest version first (counts only)" })
  @ApiPaginated()
  async list(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<Page<DatasetView>> {
    const { server } = await this.access.requireServerMember(account, id);
    return this.service.listDatasets(server, parseOrThrow(paginationQuery, query, 'query'));
  }
}

/** Differential privacy: ε per aggregate and a total per app, spent by the worker (admins). */
@ApiTags('members')
@ApiBearerAuth('session')
@UseGuards(SessionGuard)
@ApiParam({ name: 'id', description: 'Server id (srv_…) of a collective' })
@Controller('v1/servers/:id/privacy')
export class PrivacyController {
  constructor(
    private readonly service: CollectivesService,
    private readonly access: ServerAccessService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'ε per aggregate, the total per app, and what each app has spent (admins)' })
  async get(@CurrentAccount() account: SessionAccount, @Param('id') id: string): Promise<PrivacyView> {
    const { server, role } = await this.access.requireServerMember(account, id);
    return this.service.privacy(server, role);
  }

  @Put()
  @ApiOperation({ summary: 'Turn differential privacy on (ε per aggregate, total ε per app) or off (nulls)' })
  @ApiBody({ schema: openApiSchema(privacyBody) })
  async set(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<PrivacyView> {
    const { server, role } = await this.access.requireServerMember(account, id);
    return this.service.setPrivacy(server, role, body);
  }
}
