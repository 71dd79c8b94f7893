import { Inject, Injectable, Logger } from '@nestjs/common';
// why: the low-level Server takes tools' input schemas as JSON Schema, which the catalog already has;
// McpServer wants zod shapes of its own for every tool.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { FileRepository } from '@hearth/db';
import { parseOrThrow, type ProblemError } from '@hearth/errors';
import { type GrantRecord, serverPolicy } from '@hearth/permissions';
import { getAddress } from 'viem';
import type { AuthenticatedApiKey } from '../auth/auth.types';
import { Chain } from '../chain/chain.module';
import { problemOf } from '../common/library-errors';
import { toGrantView } from '../grants/grants.dto';
import { MetadataSealer } from '../keys/metadata-sealer';
import {
  createOperationBody,
  type CreateOperationBody,
  type OperationView,
} from '../operations/operations.dto';
import { OperationsService } from '../operations/operations.service';

/**
 * How long a tool call waits for its operation to end. Below the MCP SDK client's default request timeout
 * (60 s), so a slow operation answers with its id and status rather than the client giving up on it.
 */
export const MCP_TOOL_WAIT_MS = 50_000;

/** Files listed at most by the files resource for a grant over all files (the rest: `truncated`). */
export const MCP_MAX_LISTED_FILES = 1000;

/** JSON-RPC code the MCP specification gives "resource not found". */
const RESOURCE_NOT_FOUND = -32002;

const toolArguments = createOperationBody.omit({ operation: true });

export const MCP_RESOURCES = [
  {
    uri: 'hearth://server',
    name: 'server',
    title: 'This server',
    description:
      "The server's id, kind, the address that signs receipts, its permission policy and chain: what verifies a receipt",
    mimeType: 'application/json',
  },
  {
    uri: 'hearth://grants',
    name: 'grants',
    title: "This app's grants",
    description: 'Grants on this server whose grantee is this app: operations, file ids, expiry, status',
    mimeType: 'application/json',
  },
  {
    uri: 'hearth://files',
    name: 'files',
    title: 'Files granted to this app',
    description:
      "Ids, sizes, content types and arrival times of the files this app's active grants name (never names or contents)",
    mimeType: 'application/json',
  },
] as const;

type CatalogEntry = ReturnType<OperationsService['catalog']>['items'][number];

/**
 * The MCP server of one hosted server, as one API key sees it: the operation catalog as tools (each call is an
 * operation like `POST /v1/operations`, with its permission check, access-log row and receipt) and metadata as
 * resources. Built per request: the transport is stateless, and the key decides what every handler answers.
 */
@Injectable()
export class McpService {
  private readonly logger = new Logger(McpService.name);

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    private readonly operations: OperationsService,
    private readonly files: FileRepository,
    private readonly chain: Chain,
    private readonly sealer: MetadataSealer,
  ) {}

  serverFor(key: AuthenticatedApiKey): Server {
    const server = new Server(
      { name: 'hearth', title: `Hearth server ${key.serverId}`, version: '1' },
      {
        capabilities: { tools: {}, resources: {} },
        instructions:
          'Tools run Hearth operations over files this app was granted; they answer the output and a receipt ' +
          "signed by the server's key (verify it against hearth://server's address), never the files themselves.",
      },
    );
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: this.tools(key) }));
    server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
      this.callTool(key, request.params.name, request.params.arguments, extra.signal),
    );
    server.setRequestHandler(ListResourcesRequestSchema, () => ({ resources: [...MCP_RESOURCES] }));
    server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
      const { uri } = request.params;
      const body = await this.readResource(key, uri);
      return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(body) }] };
    });
    return server;
  }

  /** The catalog as tools: the operations this key may call on this kind of server. */
  tools(key: AuthenticatedApiKey): Tool[] {
    const collective = key.server.kind === 'collective';
    return this.operations
      .catalog()
      .items.filter((op) => key.operations === null || key.operations.includes(op.name))
      .filter((op) => !collective || op.aggregate)
      .map((op) => toolOf(op, collective));
  }

  async callTool(
    key: AuthenticatedApiKey,
    name: string,
    args: Record<string, unknown> | undefined,
    signal: AbortSignal,
  ): Promise<CallToolResult> {
    try {
      const parsed = parseOrThrow(toolArguments, args ?? {}, 'arguments');
      const body: CreateOperationBody = { operation: name, ...parsed };
      body.grantId ??= await this.grantFor(key, body);
      const { view } = await this.operations.create(key, body, null);
      const ended = await this.operations.waitForEnd(key, view.id, MCP_TOOL_WAIT_MS, signal);
      return operationResult(ended, this.operations.isTerminal(ended.status));
    } catch (err) {
      const problem = problemOf(err);
      if (problem.status >= 500) {
        this.logger.error(
          { err: err instanceof Error ? { name: err.name, message: err.message } : String(err) },
          'an MCP tool call failed',
        );
      }
      return problemResult(problem);
    }
  }

  /**
   * With no grant named, the app's active grant that covers this call; failing that its newest active one, so
   * the permission check refuses with the precise reason (and logs it); none under a contract policy.
   */
  private async grantFor(key: AuthenticatedApiKey, body: CreateOperationBody): Promise<string | undefined> {
    if (serverPolicy(key.server).kind !== 'grants') return undefined;
    const active = (await this.appGrants(key)).filter((g) => g.status === 'active');
    const scope = body.datasetId ? [body.datasetId] : (body.fileIds ?? []);
    const covering = active.find(
      (g) =>
        g.operations.includes(body.operation) &&
        (g.allFiles || (scope.length > 0 && scope.every((id) => g.fileIds.includes(id)))),
    );
    return (covering ?? active.at(-1))?.grantId;
  }

  private async appGrants(key: AuthenticatedApiKey): Promise<GrantRecord[]> {
    const all = await this.chain.relayer.listGrants({
      grantor: getAddress(key.server.ownerAddress),
      serverId: key.serverId,
    });
    return all.filter((g) => getAddress(g.grantee) === key.appAddress);
  }

  async readResource(key: AuthenticatedApiKey, uri: string): Promise<unknown> {
    try {
      switch (uri) {
        case 'hearth://server':
          return this.serverResource(key);
        case 'hearth://grants':
          return await this.grantsResource(key);
        case 'hearth://files':
          return await this.filesResource(key);
        default:
          throw new McpError(RESOURCE_NOT_FOUND, `No resource ${uri}`, { uri });
      }
    } catch (err) {
      if (err instanceof McpError) throw err;
      const problem = problemOf(err);
      throw new McpError(problem.status >= 500 ? -32603 : -32600, `${problem.code}: ${problem.detail}`, {
        code: problem.code,
        status: problem.status,
      });
    }
  }

  private serverResource(key: AuthenticatedApiKey) {
    const policy = serverPolicy(key.server);
    return {
      id: key.serverId,
      kind: key.server.kind,
      address: getAddress(key.server.address),
      policy: policy.kind === 'grants' ? { kind: 'grants' } : { kind: 'contract', address: policy.address },
      chainId: this.config.CHAIN_ID,
      dataPermissionsAddress: this.config.dataPermissionsAddress ?? null,
      app: { address: key.appAddress, apiKeyId: key.id, operations: key.operations },
    };
  }

  private async grantsResource(key: AuthenticatedApiKey) {
    if (serverPolicy(key.server).kind !== 'grants') {
      return { policy: 'contract', items: [] };
    }
    return { policy: 'grants', items: (await this.appGrants(key)).map(toGrantView) };
  }

  /**
   * The files the app's active grants name, described without their names. A collective lists no member's
   * files to anyone: its grants name datasets, given as ids.
   */
  private async filesResource(key: AuthenticatedApiKey) {
    if (serverPolicy(key.server).kind !== 'grants') return { items: [], datasetIds: [], truncated: false };
    const active = (await this.appGrants(key)).filter((g) => g.status === 'active');
    const datasetIds = [...new Set(active.flatMap((g) => g.fileIds.filter((id) => id.startsWith('dst_'))))];
    if (key.server.kind === 'collective') return { items: [], datasetIds, truncated: false };
    let ids: string[];
    let truncated = false;
    if (active.some((g) => g.allFiles)) {
      const page = await this.files.listReady(key.serverId, { limit: MCP_MAX_LISTED_FILES });
      truncated = page.length > MCP_MAX_LISTED_FILES;
      ids = page.slice(0, MCP_MAX_LISTED_FILES).map((f) => f.id);
    } else {
      ids = [...new Set(active.flatMap((g) => g.fileIds.filter((id) => id.startsWith('fil_'))))];
    }
    const described = await this.files.readyDescriptions(key.serverId, ids);
    const seal = described.length > 0 ? await this.sealer.forServer(key.server) : null;
    const items = described.map((f) => ({
      id: f.id,
      size: Number(f.size),
      contentType: seal!.open('file.contentType', f.id, f.sealedContentType),
      encryption: f.encryption,
      createdAt: f.createdAt.toISOString(),
      grantIds: active.filter((g) => g.allFiles || g.fileIds.includes(f.id)).map((g) => g.grantId),
    }));
    return { items, datasetIds, truncated };
  }
}

/** A catalog operation as an MCP tool: its parameters schema under `parameters`, the scope beside it. */
export function toolOf(op: CatalogEntry, collective: boolean): Tool {
  const { $schema: _ignored, ...parameters } = op.paramsSchema as Record<string, unknown>;
  const scope: Record<string, object> = collective
    ? {
        datasetId: {
          type: 'string',
          pattern: '^dst_[0-9a-f]{32}$',
          description: 'a dataset an admin published; leave out for every current contribution',
        },
      }
    : {
        fileIds: {
          type: 'array',
          items: { type: 'string', pattern: '^fil_[0-9a-f]{32}$' },
          minItems: 1,
          maxItems: 100,
          uniqueItems: true,
          description: 'the files to run over (ids from the hearth://files resource)',
        },
      };
  return {
    name: op.name,
    title: op.name,
    description:
      `${op.description} (engine ${op.engine}, version ${op.version}; at most ${op.limits.maxInputBytes} input bytes). ` +
      'Answers the output and a receipt signed by the server; the grant is checked at each call.',
    inputSchema: {
      type: 'object',
      properties: {
        ...scope,
        grantId: {
          type: 'string',
          pattern: '^[1-9][0-9]{0,77}$',
          description: "the grant to run under; left out: this app's active grant that covers the call",
        },
        parameters,
      },
      required: collective ? [] : ['fileIds'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  };
}

/** An operation as a tool result: the output and the receipt, or its end as an error with the Hearth code. */
export function operationResult(op: OperationView, terminal: boolean): CallToolResult {
  if (op.status === 'succeeded') {
    const structured = { operationId: op.id, status: op.status, result: op.result, receipt: op.receipt };
    return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
  }
  if (!terminal) {
    // Still running: the app reads it later as GET /v1/operations/:id with the same key.
    const structured = { operationId: op.id, status: op.status };
    return {
      content: [
        {
          type: 'text',
          text: `Operation ${op.id} is ${op.status}; GET /v1/operations/${op.id} answers its result when it ends`,
        },
      ],
      structuredContent: structured,
    };
  }
  const structured = {
    operationId: op.id,
    status: op.status,
    error: { code: op.error?.code ?? op.status, detail: op.error?.detail ?? null },
    ...(op.receipt ? { receipt: op.receipt } : {}),
  };
  return {
    isError: true,
    content: [{ type: 'text', text: `${structured.error.code}: ${structured.error.detail ?? op.status}` }],
    structuredContent: structured,
  };
}

/** A refusal as a tool result: the problem document's status, code, detail and field errors. */
export function problemResult(problem: ProblemError): CallToolResult {
  const doc = problem.toProblem();
  const retryAfter = problem.headers?.['Retry-After'];
  const error = {
    status: doc.status,
    code: doc.code,
    detail: doc.detail,
    ...(doc.errors ? { errors: doc.errors } : {}),
    ...(retryAfter ? { retryAfterSeconds: Number(retryAfter) } : {}),
  };
  return {
    isError: true,
    content: [{ type: 'text', text: `${doc.code}: ${doc.detail}` }],
    structuredContent: { error },
  };
}
