import { ErrorCode } from '@hearth/errors';
import { dpUnavailable } from './dp-error';

/** A scope's schema as the Data Portability Gateway names it (spec §4.2.4 `GET /v1/schemas?scope=`). */
export interface ScopeSchema {
  schemaId: string;
  scope: string;
  /** The schema's URL: the data file's `$schema`. */
  url: string;
  /** The JSON Schema definition, fetched from `url` when the gateway does not inline it. */
  definition: unknown;
}

const CACHE_MS = 60_000;

/**
 * The Data Portability Gateway (DP RPC), for what the spec has a personal server ask it: the schema of a scope
 * before an ingest. A schema is reused for a minute (schemas are immutable once registered; a new scope's
 * registration is seen within that). Unreachable, or an answer that is not the spec's shape, is a 503.
 */
export class DpGatewayClient {
  private readonly cache = new Map<string, { at: number; value: Promise<ScopeSchema | null> }>();

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  schemaFor(scope: string): Promise<ScopeSchema | null> {
    const hit = this.cache.get(scope);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.value;
    const value = this.lookup(scope);
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(scope, { at: Date.now(), value });
    value.catch(() => this.cache.delete(scope));
    return value;
  }

  private async lookup(scope: string): Promise<ScopeSchema | null> {
    const url = new URL('/v1/schemas', this.baseUrl);
    url.searchParams.set('scope', scope);
    const res = await this.get(url.toString());
    if (res.status === 404) return null;
    const body = (await this.json(res)) as { data?: unknown } | null;
    const data = (body && typeof body === 'object' && 'data' in body ? body.data : body) as Record<
      string,
      unknown
    > | null;
    const schemaId = data && typeof data === 'object' ? data.schemaId : undefined;
    if (
      !data ||
      typeof data.url !== 'string' ||
      (typeof schemaId !== 'string' && typeof schemaId !== 'number')
    ) {
      throw dpUnavailable(
        ErrorCode.dp_gateway_unavailable,
        'The Data Portability Gateway answered with no schema',
      );
    }
    let definition = data.definition;
    if (definition === undefined) {
      const fetched = await this.get(data.url);
      if (!fetched.ok)
        throw dpUnavailable(ErrorCode.dp_gateway_unavailable, 'The schema definition could not be fetched');
      definition = await this.json(fetched);
    }
    return { schemaId: String(data.schemaId), scope, url: data.url, definition };
  }

  private async get(url: string): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(url, {
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { accept: 'application/json' },
      });
    } catch {
      throw dpUnavailable(
        ErrorCode.dp_gateway_unavailable,
        'The Data Portability Gateway is unreachable; retry later',
      );
    }
    if (!res.ok && res.status !== 404) {
      await res.body?.cancel();
      throw dpUnavailable(
        ErrorCode.dp_gateway_unavailable,
        `The Data Portability Gateway answered ${res.status}`,
      );
    }
    return res;
  }

  private async json(res: Response): Promise<unknown> {
    try {
      return await res.json();
    } catch {
      throw dpUnavailable(
        ErrorCode.dp_gateway_unavailable,
        'The Data Portability Gateway answered with no JSON',
      );
    }
  }
}
