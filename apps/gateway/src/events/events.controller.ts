import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { EVENT_TYPES, EventRepository, type Page, paginationQuery, toPage } from '@hearth/db';
import { parseOrThrow } from '@hearth/errors';
import type { SessionAccount } from '../auth/auth.types';
import { CurrentAccount } from '../auth/current.decorators';
import { ServerAccessService } from '../auth/server-access.service';
import { SessionGuard } from '../auth/session.guard';
import { ApiPaginated } from '../common/api-paginated';
import { openApiSchema } from '../common/zod-openapi';
import {
  createWebhookBody,
  DELIVERY_VIEW_SCHEMA,
  type DeliveryView,
  EVENT_VIEW_SCHEMA,
  eventsQuery,
  type EventView,
  pageSchema,
  toEventView,
  WEBHOOK_VIEW_SCHEMA,
  type WebhookView,
} from './events.dto';
import { WebhooksService } from './webhooks.service';

/** Owner routes. The server check comes before reading the body or query, so strangers learn nothing. */
@ApiTags('events')
@ApiBearerAuth('session')
@UseGuards(SessionGuard)
@ApiParam({ name: 'id', description: 'Server id (srv_…)' })
@Controller('v1/servers/:id')
export class EventsController {
  constructor(
    private readonly events: EventRepository,
    private readonly webhooks: WebhooksService,
    private readonly access: ServerAccessService,
  ) {}

  @Get('events')
  @ApiOperation({ summary: "The server's events, newest first: ids and codes only, never data" })
  @ApiPaginated()
  @ApiQuery({ name: 'type', required: false, enum: [...EVENT_TYPES] })
  @ApiResponse({ status: 200, schema: pageSchema(EVENT_VIEW_SCHEMA) })
  async list(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<Page<EventView>> {
    const server = await this.access.requireOwnedServer(account, id);
    const page = parseOrThrow(eventsQuery, query, 'query');
    return toPage(await this.events.list(server.id, page), page.limit, toEventView);
  }

  @Post('webhooks')
  @HttpCode(201)
  @ApiOperation({ summary: 'Add a webhook; its signing secret is shown this once' })
  @ApiBody({ schema: openApiSchema(createWebhookBody) })
  @ApiResponse({
    status: 201,
    schema: {
      ...WEBHOOK_VIEW_SCHEMA,
      required: [...WEBHOOK_VIEW_SCHEMA.required, 'secret'],
      properties: { ...WEBHOOK_VIEW_SCHEMA.properties, secret: { type: 'string' } },
    },
  })
  async create(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<WebhookView & { secret: string }> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.webhooks.create(server, parseOrThrow(createWebhookBody, body ?? {}));
  }

  @Get('webhooks')
  @ApiOperation({ summary: "The server's webhooks (no secrets)" })
  @ApiPaginated()
  @ApiResponse({ status: 200, schema: pageSchema(WEBHOOK_VIEW_SCHEMA) })
  async listWebhooks(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<Page<WebhookView>> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.webhooks.list(server.id, parseOrThrow(paginationQuery, query, 'query'));
  }

  @Delete('webhooks/:webhookId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook and its delivery log' })
  @ApiParam({ name: 'webhookId', description: 'Webhook id (whk_…)' })
  @ApiResponse({ status: 204 })
  async remove(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Param('webhookId') webhookId: string,
  ): Promise<void> {
    const server = await this.access.requireOwnedServer(account, id);
    await this.webhooks.remove(server.id, webhookId);
  }

  @Get('webhooks/:webhookId/deliveries')
  @ApiOperation({ summary: "A webhook's delivery log, newest first: one row per attempt" })
  @ApiParam({ name: 'webhookId', description: 'Webhook id (whk_…)' })
  @ApiPaginated()
  @ApiResponse({ status: 200, schema: pageSchema(DELIVERY_VIEW_SCHEMA) })
  async deliveries(
    @CurrentAccount() account: SessionAccount,
    @Param('id') id: string,
    @Param('webhookId') webhookId: string,
    @Query() query: unknown,
  ): Promise<Page<DeliveryView>> {
    const server = await this.access.requireOwnedServer(account, id);
    return this.webhooks.deliveries(server.id, webhookId, parseOrThrow(paginationQuery, query, 'query'));
  }
}
