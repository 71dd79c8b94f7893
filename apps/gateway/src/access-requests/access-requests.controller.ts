import { Body, Controller, Get, Header, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Page } from '@hearth/db';
import { parseOrThrow } from '@hearth/errors';
import type { GrantTypedData, Jsonified } from '@hearth/permissions';
import type { FastifyRequest } from 'fastify';
import type { Hex } from 'viem';
import type { SessionAccount } from '../auth/auth.types';
import { CurrentAccount } from '../auth/current.decorators';
import { ServerAccessService } from '../auth/server-access.service';
import { SessionGuard } from '../auth/session.guard';
import { ApiPaginated } from '../common/api-paginated';
import { openApiSchema } from '../common/zod-openapi';
import {
  SIGNED_TYPED_DATA_SCHEMA,
  signedTypedDataBody,
  TYPED_DATA_RESPONSE_SCHEMA,
} from '../grants/grants.dto';
import type { AccessRequestTypedDataJson, ClaimAccessKeyTypedDataJson } from './access-request.typed-data';
import {
  ACCESS_REQUEST_VIEW_SCHEMA,
  type AccessRequestView,
  accessRequestTypedDataBody,
  APP_SIGNED_BODY_SCHEMA,
  APP_TYPED_DATA_RESPONSE_SCHEMA,
  appSignedBody,
  approveBody,
  listAccessRequestsQuery,
} from './access-requests.dto';
import { AccessRequestsService, type ClaimedKey } from './access-requests.service';

const REQUEST_ID_PARAM = { name: 'requestId', description: 'Access request id (arq_…)' };

/** The app's side: no credential but its wallet's signature; callable from any origin (CORS). */
@ApiTags('access-requests')
@Controller('v1/access-requests')
export class AccessRequestsController {
  constructor(private readonly service: AccessRequestsService) {}

  @Post('typed-data')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "EIP-712 AccessRequest typed data for the app's wallet to sign (fresh nonce, deadline 1 h ahead)",
    description:
      "server: a server id or the owner's wallet address (their personal server). Sign the typed data as is and POST it with the signature to /v1/access-requests.",
  })
  @ApiBody({ schema: openApiSchema(accessRequestTypedDataBody) })
  @ApiResponse({ status: 200, schema: APP_TYPED_DATA_RESPONSE_SCHEMA })
  typedData(
    @Body() body: unknown,
    @Req() req: FastifyRequest,
  ): Promise<{ typedData: AccessRequestTypedDataJson }> {
    return this.service.typedData(parseOrThrow(accessRequestTypedDataBody, body ?? {}), req.ip);
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'File an app-signed access request for the owner to approve or deny',
    description:
      'The signature must recover typedData.message.app (400 signature_mismatch); a nonce used before is 409 access_request_replayed.',
  })
  @ApiBody({ schema: APP_SIGNED_BODY_SCHEMA })
  @ApiResponse({
    status: 201,
    schema: {
      type: 'object',
      required: ['requestId', 'status', 'expiresAt'],
      properties: {
        requestId: { type: 'string' },
        status: { type: 'string', enum: ['pending'] },
        expiresAt: { type: 'string', format: 'date-time' },
      },
    },
  })
  submit(
    @Body() body: unknown,
    @Req() req: FastifyRequest,
  ): Promise<{ requestId: string; status: 'pending'; expiresAt: string }> {
    return this.service.submit(parseOrThrow(appSignedBody, body ?? {}), req.ip);
  }

  @Get(':requestId')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "The request's status and content (never a secret); the id is the capability" })
  @ApiParam(REQUEST_ID_PARAM)
  @ApiResponse({ status: 200, schema: ACCESS_REQUEST_VIEW_SCHEMA })
  status(@Param('requestId') requestId: string): Promise<AccessRequestView> {
    return this.service.status(requestId);
  }

  @Post(':requestId/key/typed-data')
  @HttpCode(200)
  @ApiOperation({
    summary: 'EIP-712 ClaimAccessKey typed data for the requesting wallet to sign (10 minutes)',
  })
  @ApiParam(REQUEST_ID_PARAM)
  @ApiResponse({ status: 200, schema: APP_TYPED_DATA_RESPONSE_SCHEMA })
  claimTypedData(
    @Param('requestId') requestId: string,
    @Req() req: FastifyRequest,
  ): Promise<{ typedData: ClaimAccessKeyTypedDataJson }> {
    return this.service.claimTypedData(requestId, req.ip);
  }

  @Post(':requestId/key')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "The approved request's API key, once, to the wallet that filed the request",
    description:
      'A second claim is 409 already_claimed; a claim signed by another wallet 400 signature_mismatch.',
  })
  @ApiParam(REQUEST_ID_PARAM)
  @ApiBody({ schema: APP_SIGNED_BODY_SCHEMA })
  @ApiResponse({
    status: 200,
    schema: {
      type: 'object',
      required: ['keyId', 'key', 'grantId', 'serverId', 'serverAddress'],
      properties: {
        keyId: { type: 'string' },
        key: { type: 'string', description: 'the secret (hth_live_…): shown this once' },
        grantId: { type: 'string' },
        serverId: { type: 'string' },
        serverAddress: { type: 'string' },
      },
    },
  })
  claim(
    @Param('requestId') requestId: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
  ): Promise<ClaimedKey> {
    return this.service.claim(requestId, parseOrThrow(appSignedBody, body ?? {}), req.ip);
  }
}

/** The owner's side: list, approve (sign the grant), deny. The server check comes before the body is read. */
@ApiTags('access-requests')
@ApiBearerAuth('session')
@UseGuards(SessionGuard)
@ApiParam({ name: 'id', description: 'Server id (srv_…)' })
@Controller('v1/servers/:id/access-requests')
export class ServerAccessRequestsController {
  constructor(
    private readonly service: AccessRequestsService,
    private readonly access: ServerAccessService,
  ) {}

  @Get()
  @ApiOperation({ summary: "Apps' access requests to this server, oldest first" })
  @ApiPaginated()
  @ApiResponse({
    status: 200,
    schema: {
      type: 'object',
      properties: {
        items: { type: 'array', items: ACCESS_REQUEST_VIEW_SCHEMA },
        nextCursor: { type: 'string', nullable: true },
      },
    },
  })
  async list(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<Page<AccessRequestView>> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.service.list(server, parseOrThrow(listAccessRequestsQuery, query, 'query'));
  }

  @Get(':requestId')
  @ApiOperation({ summary: 'One access request of this server' })
  @ApiParam(REQUEST_ID_PARAM)
  @ApiResponse({ status: 200, schema: ACCESS_REQUEST_VIEW_SCHEMA })
  async get(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Param('requestId') requestId: string,
  ): Promise<AccessRequestView> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.service.get(server, requestId);
  }

  @Post(':requestId/approve')
  @HttpCode(200)
  @ApiOperation({
    summary: 'The grant typed data for what the app asked (optionally narrowed) for the owner to sign',
  })
  @ApiParam(REQUEST_ID_PARAM)
  @ApiBody({ schema: openApiSchema(approveBody), required: false })
  @ApiResponse({ status: 200, schema: TYPED_DATA_RESPONSE_SCHEMA })
  async approve(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Param('requestId') requestId: string,
    @Body() body: unknown,
  ): Promise<{ typedData: Jsonified<GrantTypedData> }> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.service.approveTypedData(server, requestId, parseOrThrow(approveBody, body ?? {}));
  }

  @Post(':requestId/grant')
  @HttpCode(201)
  @ApiOperation({
    summary:
      "Relay the owner-signed grant, approve the request and create the app's API key (no secret here)",
  })
  @ApiParam(REQUEST_ID_PARAM)
  @ApiBody({ schema: SIGNED_TYPED_DATA_SCHEMA })
  @ApiResponse({
    status: 201,
    schema: {
      type: 'object',
      required: ['grantId', 'txHash', 'keyId'],
      properties: { grantId: { type: 'string' }, txHash: { type: 'string' }, keyId: { type: 'string' } },
    },
  })
  async grant(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Param('requestId') requestId: string,
    @Body() body: unknown,
  ): Promise<{ grantId: string; txHash: Hex; keyId: string }> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.service.grant(server, requestId, parseOrThrow(signedTypedDataBody, body ?? {}));
  }

  @Post(':requestId/deny')
  @HttpCode(200)
  @ApiOperation({ summary: 'Deny the request' })
  @ApiParam(REQUEST_ID_PARAM)
  @ApiResponse({
    status: 200,
    schema: { type: 'object', properties: { status: { type: 'string', enum: ['denied'] } } },
  })
  async deny(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Param('requestId') requestId: string,
  ): Promise<{ status: 'denied' }> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.service.deny(server, requestId);
  }
}
