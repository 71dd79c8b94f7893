import { Body, Controller, Get, HttpCode, Param, Post, Put, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Page } from '@hearth/db';
import { parseOrThrow } from '@hearth/errors';
import type { GrantTypedData, Jsonified, RevokeGrantTypedData } from '@hearth/permissions';
import type { Hex } from 'viem';
import type { SessionAccount } from '../auth/auth.types';
import { CurrentAccount } from '../auth/current.decorators';
import { ServerAccessService } from '../auth/server-access.service';
import { SessionGuard } from '../auth/session.guard';
import { openApiSchema } from '../common/zod-openapi';
import type { ServerView } from '../servers/server.view';
import {
  GRANT_VIEW_SCHEMA,
  type GrantView,
  grantsQuery,
  grantTypedDataBody,
  policyBody,
  RELAYED_SCHEMA,
  SIGNED_TYPED_DATA_SCHEMA,
  signedTypedDataBody,
  TYPED_DATA_RESPONSE_SCHEMA,
} from './grants.dto';
import { GrantsService } from './grants.service';

const GRANT_ID_PARAM = { name: 'grantId', description: 'On-chain grant id (uint256 as a decimal string)' };

/**
 * Owner routes for on-chain grants. The server check comes before reading the body or query, so strangers
 * learn nothing; every signed body is checked off-chain before a transaction is sent.
 */
@ApiTags('grants')
@ApiBearerAuth('session')
@UseGuards(SessionGuard)
@ApiParam({ name: 'id', description: 'Server id (srv_…)' })
@Controller('v1/servers/:id/grants')
export class GrantsController {
  constructor(
    private readonly service: GrantsService,
    private readonly access: ServerAccessService,
  ) {}

  @Post('typed-data')
  @HttpCode(200)
  @ApiOperation({
    summary: 'EIP-712 typed data of a grant for the owner to sign (current nonce, a deadline one hour ahead)',
    description:
      'Give fileIds (files of this server) or allFiles: true. operations are names from GET /v1/operations/catalog; expiresAt (ISO 8601) is optional, none means no expiry. Sign the returned typedData as is (viem signTypedData / eth_signTypedData_v4) and POST it with the signature to /v1/servers/{id}/grants.',
  })
  @ApiBody({ schema: openApiSchema(grantTypedDataBody) })
  @ApiResponse({ status: 200, schema: TYPED_DATA_RESPONSE_SCHEMA })
  async typedData(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<{ typedData: Jsonified<GrantTypedData> }> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.service.grantTypedData(server, parseOrThrow(grantTypedDataBody, body ?? {}));
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary:
      'Relay an owner-signed grant to the permission contract (the platform pays gas); answers once mined',
    description:
      'Checked before any transaction: grantor is the owner (403), serverId is this server, chain id and verifying contract, deadline, nonce, files and operations, and that the signature recovers the grantor (400 signature_mismatch).',
  })
  @ApiBody({ schema: SIGNED_TYPED_DATA_SCHEMA })
  @ApiResponse({ status: 201, schema: RELAYED_SCHEMA })
  async create(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<{ grantId: string; txHash: Hex }> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.service.relayGrant(server, parseOrThrow(signedTypedDataBody, body ?? {}));
  }

  @Get()
  @ApiOperation({ summary: "This server's grants by its owner, as the chain has them now (grant id order)" })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  })
  @ApiQuery({
    name: 'cursor',
    required: false,
    schema: { type: 'string' },
    description: 'the last grantId of the previous page',
  })
  @ApiResponse({
    status: 200,
    schema: {
      type: 'object',
      properties: {
        items: { type: 'array', items: GRANT_VIEW_SCHEMA },
        nextCursor: { type: 'string', nullable: true },
      },
    },
  })
  async list(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<Page<GrantView>> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.service.list(server, parseOrThrow(grantsQuery, query, 'query'));
  }

  @Get(':grantId')
  @ApiOperation({ summary: 'One grant of this server, as the chain has it now' })
  @ApiParam(GRANT_ID_PARAM)
  @ApiResponse({ status: 200, schema: GRANT_VIEW_SCHEMA })
  async get(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Param('grantId') grantId: string,
  ): Promise<GrantView> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.service.get(server, grantId);
  }

  @Post(':grantId/revoke/typed-data')
  @HttpCode(200)
  @ApiOperation({ summary: 'EIP-712 typed data of a revocation for the owner to sign' })
  @ApiParam(GRANT_ID_PARAM)
  @ApiResponse({ status: 200, schema: TYPED_DATA_RESPONSE_SCHEMA })
  async revokeTypedData(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Param('grantId') grantId: string,
  ): Promise<{ typedData: Jsonified<RevokeGrantTypedData> }> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.service.revokeTypedData(server, grantId);
  }

  @Post(':grantId/revoke')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Relay an owner-signed revocation; effective from the next block, answers once mined',
  })
  @ApiParam(GRANT_ID_PARAM)
  @ApiBody({ schema: SIGNED_TYPED_DATA_SCHEMA })
  @ApiResponse({ status: 200, schema: RELAYED_SCHEMA })
  async revoke(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Param('grantId') grantId: string,
    @Body() body: unknown,
  ): Promise<{ grantId: string; txHash: Hex }> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.service.relayRevoke(server, grantId, parseOrThrow(signedTypedDataBody, body ?? {}));
  }
}

/** Bring-your-own policy: the server's grants (default) or a contract implementing the seed's interface. */
@ApiTags('grants')
@ApiBearerAuth('session')
@UseGuards(SessionGuard)
@ApiParam({ name: 'id', description: 'Server id (srv_…)' })
@Controller('v1/servers/:id/policy')
export class PolicyController {
  constructor(
    private readonly service: GrantsService,
    private readonly access: ServerAccessService,
  ) {}

  @Put()
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Set the server's permission policy: grants in DataPermissions, or your own IVanaDataPermission contract",
    description:
      '{kind: "contract", address} must hold a contract answering owner(), authorized(address) and authorized(address,uint256) (400 policy_invalid otherwise); the worker then asks authorized(app, fileId) for every file. {kind: "grants"} resets.',
  })
  @ApiBody({ schema: openApiSchema(policyBody) })
  @ApiResponse({
    status: 200,
    schema: {
      type: 'object',
      required: ['kind'],
      properties: { kind: { type: 'string', enum: ['grants', 'contract'] }, address: { type: 'string' } },
    },
  })
  async put(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<ServerView['policy']> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.service.setPolicy(server, parseOrThrow(policyBody, body ?? {}));
  }
}
