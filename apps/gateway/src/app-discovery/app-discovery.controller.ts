import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { FileRepository, type Page, toPage } from '@hearth/db';
import { parseOrThrow } from '@hearth/errors';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedApiKey } from '../auth/auth.types';
import { CurrentApiKey } from '../auth/current.decorators';
import { ApiPaginated } from '../common/api-paginated';
import { MetadataSealer } from '../keys/metadata-sealer';
import {
  APP_FILE_VIEW_SCHEMA,
  APP_GRANT_VIEW_SCHEMA,
  type AppFileView,
  appFilesQuery,
  type AppGrantView,
  appGrantsQuery,
  toAppGrantView,
} from './app-discovery.dto';
import { AppGrants } from './app-grants.service';

/** What an app may do on its key's server: its grants and the files it may name. */
@ApiTags('app-discovery')
@ApiBearerAuth('apiKey')
@UseGuards(ApiKeyGuard)
@Controller('v1')
export class AppDiscoveryController {
  constructor(
    private readonly grants: AppGrants,
    private readonly files: FileRepository,
    private readonly sealer: MetadataSealer,
  ) {}

  @Get('grants')
  @ApiOperation({ summary: "Grants on this key's server naming this key's app, as the chain has them now" })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  })
  @ApiQuery({
    name: 'cursor',
    required: false,
    schema: { type: 'string' },
    description: 'the last grantId seen',
  })
  @ApiResponse({
    status: 200,
    schema: {
      type: 'object',
      properties: {
        items: { type: 'array', items: APP_GRANT_VIEW_SCHEMA },
        nextCursor: { type: 'string', nullable: true },
      },
    },
  })
  async listGrants(
    @CurrentApiKey() key: AuthenticatedApiKey,
    @Query() query: unknown,
  ): Promise<Page<AppGrantView>> {
    const page = parseOrThrow(appGrantsQuery, query, 'query');
    const all = await this.grants.forKey(key);
    const after = page.cursor === undefined ? undefined : BigInt(page.cursor);
    const rest = after === undefined ? all : all.filter((g) => BigInt(g.grantId) > after);
    const kept = rest.slice(0, page.limit);
    return {
      items: kept.map(toAppGrantView),
      nextCursor: rest.length > page.limit ? kept[kept.length - 1].grantId : null,
    };
  }

  @Get('files')
  @ApiOperation({
    summary:
      'Files this app may name: those in its active grants (all, with an allFiles grant), newest first',
    description:
      'Ids, sizes, content types and dates; never names. A collective lists none (apps name datasets).',
  })
  @ApiPaginated()
  @ApiResponse({
    status: 200,
    schema: {
      type: 'object',
      properties: {
        items: { type: 'array', items: APP_FILE_VIEW_SCHEMA },
        nextCursor: { type: 'string', nullable: true },
      },
    },
  })
  async listFiles(
    @CurrentApiKey() key: AuthenticatedApiKey,
    @Query() query: unknown,
  ): Promise<Page<AppFileView>> {
    const page = parseOrThrow(appFilesQuery, query, 'query');
    if (key.server.kind === 'collective') return { items: [], nextCursor: null };
    const active = (await this.grants.forKey(key)).filter((g) => g.status === 'active');
    if (active.length === 0) return { items: [], nextCursor: null };
    const rowsPage = { limit: page.limit, cursor: page.cursor };
    const rows = active.some((g) => g.allFiles)
      ? await this.files.listReady(key.serverId, rowsPage)
      : await this.files.listReadyAmong(
          key.serverId,
          [...new Set(active.flatMap((g) => g.fileIds.filter((id) => id.startsWith('fil_'))))],
          rowsPage,
        );
    const seal = await this.sealer.forServer(key.server);
    return toPage(rows, page.limit, (f) => ({
      id: f.id,
      size: Number(f.size),
      contentType: seal.open('file.contentType', f.id, f.sealedContentType),
      createdAt: f.createdAt.toISOString(),
    }));
  }
}
