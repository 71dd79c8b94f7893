import { Controller, Get, Headers, Param, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import type { SessionAccount } from '../auth/auth.types';
import { CurrentAccount } from '../auth/current.decorators';
import { ServerAccessService } from '../auth/server-access.service';
import { SessionGuard, sessionTokenHashOf } from '../auth/session.guard';
import { ExportService } from './export.service';

@ApiTags('servers')
@ApiBearerAuth('session')
@UseGuards(SessionGuard)
@ApiParam({ name: 'id', description: 'Server id (srv_…)' })
@Controller('v1/servers/:id')
export class ExportController {
  constructor(
    private readonly service: ExportService,
    private readonly access: ServerAccessService,
  ) {}

  @Get('export')
  @ApiProduces('application/x-tar')
  @ApiOperation({
    summary:
      'Everything of the server as one tar stream: manifest, grants, every file (client envelopes as sent), the access log with receipts',
    description:
      'Owner only. Server-side files are decrypted (each read is logged); client-side files are their envelopes. ' +
      'A failure after the first byte cuts the archive short (no end-of-archive blocks), never a wrong file.',
  })
  async export(
    @CurrentAccount() account: SessionAccount,
    @Headers('authorization') authorization: string | undefined,
    @Param('id') id: string,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const server = await this.access.requireOwnedServer(account, id);
    const stream = await this.service.archive(server, account, sessionTokenHashOf(authorization));
    await reply
      .status(200)
      .headers({
        'Content-Type': 'application/x-tar',
        'Content-Disposition': `attachment; filename="hearth-${server.id}.tar"`,
        'Cache-Control': 'no-store',
      })
      .send(Readable.from(stream));
  }
}
