import { Body, Controller, Delete, Get, Logger, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ErrorCode, ProblemError } from '@hearth/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthenticatedApiKey } from '../auth/auth.types';
import { CurrentApiKey } from '../auth/current.decorators';
import { sendProblem } from '../common/problem.filter';
import { McpAuthGuard } from './mcp-auth.guard';
import { McpService } from './mcp.service';

const DESCRIPTION =
  'Model Context Protocol (streamable HTTP, stateless: no session id, no standalone event stream; every POST ' +
  "carries JSON-RPC and is answered as JSON). Tools are the operation catalog, run under the app's grants; " +
  'resources are metadata (hearth://server, hearth://grants, hearth://files). Authenticated by the API key, or on ' +
  "/v1/servers/:serverId/mcp by a Web3Signed header of the app's wallet (the Data Portability Protocol's), which " +
  "runs under that app's API key on the server.";

function notHere(): ProblemError {
  return new ProblemError(
    405,
    ErrorCode.method_not_allowed,
    'This MCP endpoint is stateless: POST JSON-RPC messages; there is no event stream to open or session to end',
    undefined,
    { Allow: 'POST' },
  );
}

/** The MCP endpoint of the API key's server, at `/mcp` and at `/v1/servers/:serverId/mcp`. */
@ApiTags('mcp')
@Controller()
export class McpController {
  private readonly logger = new Logger(McpController.name);

  constructor(private readonly mcp: McpService) {}

  @Post('mcp')
  @UseGuards(McpAuthGuard)
  @ApiBearerAuth('apiKey')
  @ApiOperation({ summary: "MCP endpoint of the API key's server", description: DESCRIPTION })
  @ApiResponse({ status: 200, description: 'A JSON-RPC response (202 for a notification)' })
  post(
    @CurrentApiKey() key: AuthenticatedApiKey,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.handle(key, body, req, reply);
  }

  @Post('v1/servers/:serverId/mcp')
  @UseGuards(McpAuthGuard)
  @ApiBearerAuth('apiKey')
  @ApiParam({ name: 'serverId', description: "srv_…: the API key's own server (any other: 404)" })
  @ApiOperation({ summary: 'MCP endpoint of one server, named in the path', description: DESCRIPTION })
  @ApiResponse({ status: 200, description: 'A JSON-RPC response (202 for a notification)' })
  postForServer(
    @CurrentApiKey() key: AuthenticatedApiKey,
    @Param('serverId') serverId: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    // A key belongs to one server; another server's endpoint does not exist for it.
    if (serverId !== key.serverId) throw ProblemError.notFound('server');
    return this.handle(key, body, req, reply);
  }

  @Get('mcp')
  @UseGuards(McpAuthGuard)
  @ApiBearerAuth('apiKey')
  @ApiOperation({ summary: 'No standalone event stream (stateless MCP): 405' })
  openStream(): never {
    throw notHere();
  }

  @Delete('mcp')
  @UseGuards(McpAuthGuard)
  @ApiBearerAuth('apiKey')
  @ApiOperation({ summary: 'No session to end (stateless MCP): 405' })
  endSession(): never {
    throw notHere();
  }

  @Get('v1/servers/:serverId/mcp')
  @UseGuards(McpAuthGuard)
  @ApiBearerAuth('apiKey')
  @ApiOperation({ summary: 'No standalone event stream (stateless MCP): 405' })
  openServerStream(@CurrentApiKey() key: AuthenticatedApiKey, @Param('serverId') serverId: string): never {
    if (serverId !== key.serverId) throw ProblemError.notFound('server');
    throw notHere();
  }

  @Delete('v1/servers/:serverId/mcp')
  @UseGuards(McpAuthGuard)
  @ApiBearerAuth('apiKey')
  @ApiOperation({ summary: 'No session to end (stateless MCP): 405' })
  endServerSession(@CurrentApiKey() key: AuthenticatedApiKey, @Param('serverId') serverId: string): never {
    if (serverId !== key.serverId) throw ProblemError.notFound('server');
    throw notHere();
  }

  /** One JSON-RPC exchange: a server and a transport of its own, closed with the response. */
  private async handle(
    key: AuthenticatedApiKey,
    body: unknown,
    req: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    const server = this.mcp.serverFor(key);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    // The transport writes the response itself; the headers set so far (request id, rate limit) go with it.
    reply.hijack();
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) reply.raw.setHeader(name, value);
    }
    reply.raw.once('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req.raw, reply.raw, body);
    } catch (err) {
      sendProblem(req, reply, err, this.logger);
    }
  }
}
