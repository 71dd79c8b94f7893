import { Body, Controller, Get, Header, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import type { FastifyRequest } from 'fastify';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { openApiSchema } from '../common/zod-openapi';
import { ZodPipe } from '../common/zod.pipe';
import type { SessionAccount } from './auth.types';
import { CurrentAccount } from './current.decorators';
import { RateLimiter } from './rate-limiter';
import { SessionGuard } from './session.guard';
import { type NonceResponse, type SessionResponse, type SiweBody, siweBody } from './siwe.dto';
import { SiweService } from './siwe.service';

@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(
    private readonly siwe: SiweService,
    private readonly limiter: RateLimiter,
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
  ) {}

  /**
   * Sign-in routes take no credential, so they are limited per client IP (TRUST_PROXY decides whose address
   * that is). With nonces living NONCE_TTL_SECONDS, it also bounds the nonces one IP keeps in Redis.
   */
  private perIp(route: string, req: FastifyRequest): Promise<unknown> {
    return this.limiter.enforce(
      `ip:${route}:${req.ip}`,
      this.config.AUTH_RATE_PER_MINUTE_PER_IP,
      'per client IP',
    );
  }

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
  async nonce(@Req() req: FastifyRequest): Promise<NonceResponse> {
    await this.perIp('nonce', req);
    // A hard bound on the nonces Redis holds, whatever the number of addresses a flood comes from.
    await this.limiter.enforce('nonce:all', this.config.AUTH_NONCES_PER_MINUTE, 'for every client together');
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
  async signIn(
    @Req() req: FastifyRequest,
    @Body(new ZodPipe(siweBody)) body: SiweBody,
  ): Promise<SessionResponse> {
    await this.perIp('siwe', req);
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
