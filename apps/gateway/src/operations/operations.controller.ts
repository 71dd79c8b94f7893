import { Body, Controller, Get, Headers, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { parseOrThrow } from '@hearth/errors';
import type { Response } from 'express';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedApiKey } from '../auth/auth.types';
import { CurrentApiKey } from '../auth/current.decorators';
import { openApiSchema } from '../common/zod-openapi';
import { OperationEventsHub } from './operation-events.hub';
import {
  createOperationBody,
  idempotencyKey,
  OPERATION_VIEW_SCHEMA,
  type OperationView,
} from './operations.dto';
import { OperationsService } from './operations.service';

const HEARTBEAT_MS = 15_000;

@ApiTags('operations')
@Controller('v1/operations')
export class OperationsController {
  constructor(
    private readonly service: OperationsService,
    private readonly hub: OperationEventsHub,
  ) {}

  @Get('catalog')
  @ApiOperation({
    summary: 'Operations this deployment runs: name, version, engine, parameter schema, limits',
  })
  catalog() {
    return this.service.catalog();
  }

  @Post()
  @UseGuards(ApiKeyGuard)
  @ApiBearerAuth('apiKey')
  @HttpCode(202)
  @ApiOperation({ summary: 'Run an operation over granted files; answers at once, the result comes later' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Same key and body → the same operation',
  })
  @ApiBody({ schema: openApiSchema(createOperationBody) })
  @ApiResponse({ status: 202, schema: OPERATION_VIEW_SCHEMA })
  async create(
    @CurrentApiKey() key: AuthenticatedApiKey,
    @Body() body: unknown,
    @Headers('idempotency-key') idemHeader: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OperationView> {
    const idem =
      idemHeader === undefined ? null : parseOrThrow(idempotencyKey, idemHeader, 'Idempotency-Key');
    const { view, replayed } = await this.service.create(
      key,
      parseOrThrow(createOperationBody, body ?? {}),
      idem,
    );
    res.setHeader('Location', `/v1/operations/${view.id}`);
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    return view;
  }

  @Get(':operationId')
  @UseGuards(ApiKeyGuard)
  @ApiBearerAuth('apiKey')
  @ApiParam({ name: 'operationId', description: 'op_…' })
  @ApiOperation({ summary: 'Status, and when done the result and the server-signed receipt' })
  @ApiResponse({ status: 200, schema: OPERATION_VIEW_SCHEMA })
  get(@CurrentApiKey() key: AuthenticatedApiKey, @Param('operationId') id: string): Promise<OperationView> {
    return this.service.get(key, id);
  }

  @Post(':operationId/cancel')
  @UseGuards(ApiKeyGuard)
  @ApiBearerAuth('apiKey')
  @HttpCode(200)
  @ApiParam({ name: 'operationId', description: 'op_…' })
  @ApiOperation({ summary: 'Cancel a queued operation (409 once it runs)' })
  cancel(
    @CurrentApiKey() key: AuthenticatedApiKey,
    @Param('operationId') id: string,
  ): Promise<OperationView> {
    return this.service.cancel(key, id);
  }

  @Get(':operationId/events')
  @UseGuards(ApiKeyGuard)
  @ApiBearerAuth('apiKey')
  @ApiParam({ name: 'operationId', description: 'op_…' })
  @ApiProduces('text/event-stream')
  @ApiOperation({
    summary: 'Server-sent events: queued, running, then succeeded | failed | denied | cancelled',
  })
  async events(
    @CurrentApiKey() key: AuthenticatedApiKey,
    @Param('operationId') id: string,
    @Res() res: Response,
  ): Promise<void> {
    const op = await this.service.find(key, id);
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    let last = '';
    let closed = false;
    const send = (status: string) => {
      if (closed || status === last) return;
      last = status;
      res.write(`event: status\nid: ${status}\ndata: ${JSON.stringify({ id: op.id, status })}\n\n`);
      if (this.service.isTerminal(status)) finish();
    };
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    let unsubscribe: () => void = () => undefined;
    const finish = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      res.end();
    };
    res.on('close', finish);
    // Subscribe first, then read the current state: no transition can fall between the two.
    unsubscribe = await this.hub.subscribe(op.id, (event) => send(event.status));
    if (closed) {
      unsubscribe();
      return;
    }
    const current = await this.service.find(key, id);
    if (current.status === 'running' && last === '') send('queued');
    send(current.status);
  }
}
