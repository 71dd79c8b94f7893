import type { paths } from './generated/openapi';

type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : never;
/** The JSON a route answers with, from the generated OpenAPI types. */
export type ResponseOf<
  P extends keyof paths,
  M extends keyof paths[P],
  S extends number = 200,
> = paths[P][M] extends {
  responses: infer R;
}
  ? S extends keyof R
    ? JsonOf<R[S]>
    : never
  : never;
/** The JSON body a route takes. */
export type BodyOf<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

export type Hex = `0x${string}`;

export interface Server {
  id: string;
  kind: 'personal' | 'collective';
  name: string;
  address: Hex;
  publicKey: string;
  owner: Hex;
  policy: { kind: string; address?: Hex };
  createdAt: string;
  [extra: string]: unknown;
}

export interface HearthFile {
  id: string;
  name: string;
  size: number;
  contentType: string;
  encryption: 'server' | 'client';
  contributor?: string;
  createdAt: string;
  [extra: string]: unknown;
}

export interface ApiKey {
  id: string;
  name: string;
  appAddress: Hex;
  operations?: string[] | null;
  origins?: string[] | null;
  ratePerMinute?: number;
  [extra: string]: unknown;
}

/** A Data Portability scope of a personal server (docs/data-portability.md). */
export interface DataPortabilityScope {
  scope: string;
  /** Builders holding a grant may read its raw documents. */
  readable: boolean;
  versions: number;
  latestCollectedAt: string | null;
}

export interface CreatedApiKey extends ApiKey {
  /** The secret, shown once. */
  key: string;
}

export interface TypedData {
  domain: Record<string, unknown>;
  types: Record<string, unknown>;
  primaryType: string;
  message: Record<string, unknown>;
}

export interface Grant {
  grantId: string;
  grantee: Hex;
  operations: string[];
  fileIds: string[];
  allFiles: boolean;
  expiresAt: string | null;
  status: 'active' | 'revoked' | 'expired';
  txHash?: string;
  [extra: string]: unknown;
}

export interface GrantInput {
  appAddress: string;
  operations: string[];
  fileIds?: string[];
  allFiles?: boolean;
  /** ISO 8601 or a Date; none = never expires. */
  expiresAt?: string | Date;
}

/** One event of the owner's feed: ids and codes only (docs/api.md#events-and-webhooks). */
export interface HearthEvent {
  id: string;
  type: string;
  createdAt: string;
  data: Record<string, unknown>;
}

export interface Webhook {
  id: string;
  url: string;
  /** null: every event type. */
  events: string[] | null;
  status: 'active' | 'disabled';
  consecutiveFailures: number;
  disabledAt: string | null;
  createdAt: string;
}

export interface CreatedWebhook extends Webhook {
  /** The signing secret, shown once. */
  secret: string;
}

/** One delivery attempt of the webhook's log. */
export interface WebhookDelivery {
  id: string;
  eventId: string;
  attempt: number;
  statusCode: number | null;
  errorCode: string | null;
  durationMs: number;
  createdAt: string;
}

export type AccessLogEntry = Record<string, unknown> & { id: string; outcome?: string; createdAt?: string };
export type UsageRow = Record<string, unknown>;
export interface Member {
  address: Hex;
  role: 'admin' | 'member';
  [extra: string]: unknown;
}

export type OperationStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'denied' | 'cancelled';

export interface Operation {
  id: string;
  serverId?: string;
  status: OperationStatus;
  operation: string;
  operationVersion?: string;
  fileIds?: string[];
  grantId?: string | null;
  parameters?: Record<string, unknown>;
  result?: unknown;
  receipt?: import('./receipts').Receipt;
  error?: { code: string; detail: string };
  [extra: string]: unknown;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'denied', 'cancelled']);
