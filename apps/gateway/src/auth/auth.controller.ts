import { Body, Controller, Get, Header, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { openApiSchema } from '../common/zod-openapi';
import { ZodPipe } from '../common/zod.pipe';
import type { SessionAccount } from './auth.types';
import { CurrentAccount } from './current.decorators';
import { SessionGuard } from './session.guard';
import { type NonceResponse, type SessionResponse, type SiweBody, siweBody } from './siwe.dto';
import { SiweService } from './siwe.service';

@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(private readonly siwe: SiweService) {}

  @Get('nonce')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'A single-use SIWE nonce (5 minutes) and the domain and chain id the message must carry',
  })
  @ApiResponse({
    status: 200,
    schema: {
      type: 'object',
      properties: {
        nonce: { type: 'string' },
        domain: { type: 'string' },
        uri: { type: 'string', description: 'an origin the message uri may have' },
        chainId: { type: 'integer' },
      },
    },
  })
  nonce(): Promise<NonceResponse> {
    return this.siwe.issueNonce();
  }

  @Post('siwe')
  @HttpCode(201)
  @ApiOperation({
    summary:
      'Sign in with an EIP-4361 message and its signature; the first sign-in provisions the personal server',
  })
  @ApiBody({ schema: openApiSchema(siweBody) })
  @ApiResponse({
    status: 201,
    description: 'An opaque bearer session token',
    schema: {
      type: 'object',
      properties: {
        token: { type: 'string' },
        expiresAt: { type: 'string', format: 'date-time' },
        address: { type: 'string' },
      },
    },
  })
  signIn(@Body(new ZodPipe(siweBody)) body: SiweBody): Promise<SessionResponse> {
    return this.siwe.signIn(body);
  }

  @Post('logout')
  @HttpCode(204)
  @UseGuards(SessionGuard)
  @ApiBearerAuth('session')
  @ApiOperation({ summary: 'Revoke the session token used for this request' })
  @ApiResponse({ status: 204 })
  async logout(@CurrentAccount() account: SessionAccount): Promise<void> {
    await this.siwe.signOut(account.accountId, account.sessionId);
  }
}
