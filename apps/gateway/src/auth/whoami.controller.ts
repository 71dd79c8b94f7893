import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from './api-key.guard';
import type { AuthenticatedApiKey } from './auth.types';
import { CurrentApiKey } from './current.decorators';

@ApiTags('api-keys')
@Controller('v1/whoami')
export class WhoamiController {
  @Get()
  @UseGuards(ApiKeyGuard)
  @ApiBearerAuth('apiKey')
  @ApiOperation({ summary: 'The API key making the request: its id, server and app address' })
  @ApiResponse({
    status: 200,
    schema: {
      type: 'object',
      properties: { keyId: { type: 'string' }, serverId: { type: 'string' }, appAddress: { type: 'string' } },
    },
  })
  whoami(@CurrentApiKey() key: AuthenticatedApiKey): { keyId: string; serverId: string; appAddress: string } {
    return { keyId: key.id, serverId: key.serverId, appAddress: key.appAddress };
  }
}
