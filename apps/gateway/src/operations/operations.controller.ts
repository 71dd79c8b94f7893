import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { OperationEntity, Page } from '@hearth/db';
import { parseOrThrow, ProblemError } from '@hearth/errors';
import { isId } from '@hearth/ids';
import { OperationQueue } from '@hearth/queue';
import type { FastifyReply } from 'fastify';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedApiKey } from '../auth/auth.types';
import { CurrentApiKey } from '../auth/current.decorators';
import { openApiSchema } from '../common/zod-openapi';
import { ApiPaginated } from '../common/api-paginated';
import {
  createOperationBody,
  idempotencyKey,
  listOperationsQuery,
  MAX_PREFER_WAIT_SECONDS,
  OPERATION_VIEW_SCHEMA,
  type OperationView,
  preferredWaitSeconds,
} from './operations.dto';
import { OperationsService } from './operations.service';

const HEARTBEAT_MS = 15_000;

@ApiTags('operations')
@Controller('v1/operations')
export class OperationsController {
  constructor(
    private readonly service: OperationsService,
    private readonly queue: OperationQueue,
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
  @ApiOperation({
    summary: 'Run an operation over granted files',
    description:
      'Answers 202 at once; the result comes later (GET or the event stream). With `Prefer: wait=N` (N ≤ ' +
      `${MAX_PREFER_WAIT_SECONDS} s) it answers 200 with the finished operation, result and receipt included, ` +
      'if it ends within N seconds, else 202 as usual.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Same key and body → the same operation',
  })
  @ApiHeader({ name: 'Prefer', required: false, description: 'wait=N: wait up to N seconds for the outcome' })
  @ApiBody({ schema: openApiSchema(createOperationBody) })
  @ApiResponse({ status: 202, schema: OPERATION_VIEW_SCHEMA, description: 'Queued (or still running)' })
  @ApiResponse({ status: 200, schema: OPERATION_VIEW_SCHEMA, description: 'Ended within Prefer: wait' })
  async create(
    @CurrentApiKey() key: AuthenticatedApiKey,
    @Body() body: unknown,
    @Headers('idempotency-key') idemHeader: string | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const idem =
      idemHeader === undefined ? null : parseOrThrow(idempotencyKey, idemHeader, 'Idempotency-Key');
    const waitSeconds = preferredWaitSeconds(prefer);
    const { view, replayed, watch } = await this.service.create(
      key,
      parseOrThrow(createOperationBody, body ?? {}),
      idem,
      { watchEnd: waitSeconds > 0 },
    );
    void reply.header('Location', `/v1/operations/${view.id}`);
    if (replayed) void reply.header('Idempotent-Replayed', 'true');
    if (waitSeconds === 0) {
      await reply.status(202).send(view);
      return;
    }
    void reply.header('Preference-Applied', `wait=${waitSeconds}`);
    const left = new AbortController();
    const onClose = () => left.abort();
    reply.raw.once('close', onClose);
    let latest: OperationView;
    try {
      latest = watch
        ? await this.service.awaitEnd(key, view, watch, waitSeconds * 1000, left.signal)
        : await this.service.waitForEnd(key, view.id, waitSeconds * 1000, left.signal);
    } finally {
      reply.raw.off('close', onClose);
    }
    if (reply.raw.destroyed) return; // the client left while waiting: the operation runs on regardless
    await reply.status(this.service.isTerminal(latest.status) ? 200 : 202).send(latest);
  }

  @Get()
  @UseGuards(ApiKeyGuard)
  @ApiBearerAuth('apiKey')
  @ApiOperation({
    summary: "This API key's operations, newest first (without results: GET /v1/operations/:id has them)",
  })
  @ApiPaginated()
  @ApiQuery({
    name: 'status',
    required: false,
    enum: ['queued', 'running', 'succeeded', 'failed', 'denied', 'cancelled'],
  })
  list(@CurrentApiKey() key: AuthenticatedApiKey, @Query() query: unknown): Promise<Page<OperationView>> {
    return this.service.list(key, parseOrThrow(listOperationsQuery, query, 'query'));
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
    @Res() reply: FastifyReply,
  ): Promise<void> {
    // Subscribe first, then read once: no transition can fall between the two, and the one read decides both
    // access (404 for another key's operation, before any header is sent) and the state to start from.
    // Events that arrive before the read are held and replayed after it.
    if (!isId('op', id)) throw ProblemError.notFound('operation'); // nothing to subscribe to
    const early: string[] = [];
    let deliver: (status: string) => void = (status) => early.push(status);
    const unsubscribe = await this.queue.subscribe(id, (event) => deliver(event.status));
    let op: OperationEntity;
    try {
      op = await this.service.find(key, id);
    } catch (err) {
      unsubscribe();
      throw err;
    }
    // The stream is written by hand from here on; Fastify sends nothing more for this request.
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
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
    const finish = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      res.end();
    };
    res.on('close', finish);
    // The client may have left while the operation was read: 'close' has then fired already.
    if (res.destroyed || !res.socket || res.socket.destroyed) return finish();
    if (op.status === 'running' && !early.includes('queued')) send('queued');
    send(op.status);
    for (const status of early) send(status);
    deliver = send;
  }
}
