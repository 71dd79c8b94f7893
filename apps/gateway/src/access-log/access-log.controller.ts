import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { type Page, paginationQuery } from '@hearth/db';
import { parseOrThrow } from '@hearth/errors';
import { z } from 'zod';
import type { SessionAccount } from '../auth/auth.types';
import { CurrentAccount } from '../auth/current.decorators';
import { ServerAccessService } from '../auth/server-access.service';
import { SessionGuard } from '../auth/session.guard';
import { type AccessLogView, AccessLogService, type UsageView } from './access-log.service';
import { ApiPaginated } from '../common/api-paginated';
import { QuotasService, type QuotasView } from '../quotas/quotas.service';

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');
const accessLogQuery = paginationQuery.extend({ outcome: z.enum(['denied', 'allowed']).optional() }).strict();

const usageQuery = paginationQuery
  .omit({ cursor: true })
  .extend({ from: day.optional(), to: day.optional(), cursor: z.string().max(200).optional() })
  .strict();

@ApiTags('access-log')
@ApiBearerAuth('session')
@UseGuards(SessionGuard)
@ApiParam({ name: 'id', description: 'Server id (srv_…)' })
@Controller('v1/servers/:id')
export class AccessLogController {
  constructor(
    private readonly service: AccessLogService,
    private readonly access: ServerAccessService,
    private readonly quotas: QuotasService,
  ) {}

  @Get('access-log')
  @ApiOperation({
    summary: 'Every decryption of data and every refused attempt, newest first, with its receipt',
    description:
      "Owners and a collective's admins see every row; a collective's member sees the rows touching their contributions.",
  })
  @ApiPaginated()
  @ApiQuery({
    name: 'outcome',
    required: false,
    enum: ['denied', 'allowed'],
    description: 'denied: refused attempts only; allowed: reads and operations that ran',
  })
  async accessLog(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<Page<AccessLogView>> {
    const { server, role } = await this.access.requireServerMember(account, id);
    const onlyMember = role === 'owner' || role === 'admin' ? null : account.address.toLowerCase();
    return this.service.list(server.id, parseOrThrow(accessLogQuery, query, 'query'), onlyMember);
  }

  @Get('usage')
  @ApiOperation({
    summary:
      'Operations, compute time and input bytes per API key per UTC day, and where the owner stands against each quota',
  })
  @ApiQuery({ name: 'from', required: false, schema: { type: 'string', format: 'date' } })
  @ApiQuery({ name: 'to', required: false, schema: { type: 'string', format: 'date' } })
  @ApiPaginated()
  async usage(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<UsageView & { quotas: QuotasView }> {
    const server = await this.access.requireOwnedServer(account, id);
    const usage = await this.service.usage(server.id, parseOrThrow(usageQuery, query, 'query'));
    return { ...usage, quotas: await this.quotas.view(account.accountId, server.id) };
  }
}
