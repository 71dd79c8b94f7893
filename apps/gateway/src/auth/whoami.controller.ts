import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { checksummed } from './checksummed';
import { ApiKeyGuard } from './api-key.guard';
import type { AuthenticatedApiKey } from './auth.types';
import { CurrentApiKey } from './current.decorators';

interface WhoamiView {
  keyId: string;
  serverId: string;
  appAddress: string;
  serverAddress: string;
  serverPublicKey: string;
}

@ApiTags('api-keys')
@Controller('v1/whoami')
export class WhoamiController {
  @Get()
  @UseGuards(ApiKeyGuard)
  @ApiBearerAuth('apiKey')
  @ApiOperation({
    summary:
      "The API key making the request: its id, server and app address, and the server's own address and public key",
    description: 'serverAddress is the address every receipt of this server must recover to.',
  })
  @ApiResponse({
    status: 200,
    schema: {
      type: 'object',
      required: ['keyId', 'serverId', 'appAddress', 'serverAddress', 'serverPublicKey'],
      properties: {
        keyId: { type: 'string' },
        serverId: { type: 'string' },
        appAddress: { type: 'string' },
        serverAddress: { type: 'string', description: "EIP-55 address of the server's identity key" },
        serverPublicKey: {
          type: 'string',
          description: "the server identity key's uncompressed secp256k1 public key (0x-hex)",
        },
      },
    },
  })
  whoami(@CurrentApiKey() key: AuthenticatedApiKey): WhoamiView {
    // Apps verify receipts against this: it comes from the server row (read with the key), never from a receipt.
    return {
      keyId: key.id,
      serverId: key.serverId,
      appAddress: key.appAddress,
      serverAddress: checksummed(key.server.address),
      serverPublicKey: key.server.publicKey,
    };
  }
}
