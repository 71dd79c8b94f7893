import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ServerRepository } from '@hearth/db';
import { ProblemError } from '@hearth/errors';
import { getAddress } from 'viem';
import { ApiKeyGuard } from './api-key.guard';
import type { AuthenticatedApiKey } from './auth.types';
import { CurrentApiKey } from './current.decorators';

interface WhoamiView {
  keyId: string;
  serverId: string;
  appAddress: string;
  serverAddress: string;
}

@ApiTags('api-keys')
@Controller('v1/whoami')
export class WhoamiController {
  constructor(private readonly servers: ServerRepository) {}

  @Get()
  @UseGuards(ApiKeyGuard)
  @ApiBearerAuth('apiKey')
  @ApiOperation({
    summary: "The API key making the request: its id, server and app address, and the server's own address",
    description: 'serverAddress is the address every receipt of this server must recover to.',
  })
  @ApiResponse({
    status: 200,
    schema: {
      type: 'object',
      required: ['keyId', 'serverId', 'appAddress', 'serverAddress'],
      properties: {
        keyId: { type: 'string' },
        serverId: { type: 'string' },
        appAddress: { type: 'string' },
        serverAddress: { type: 'string', description: "EIP-55 address of the server's identity key" },
      },
    },
  })
  async whoami(@CurrentApiKey() key: AuthenticatedApiKey): Promise<WhoamiView> {
    // Apps verify receipts against this: it comes from the server row, never from a receipt.
    const server = await this.servers.findById(key.serverId);
    if (!server) throw ProblemError.notFound('server');
    return {
      keyId: key.id,
      serverId: key.serverId,
      appAddress: key.appAddress,
      serverAddress: getAddress(server.address),
    };
  }
}
