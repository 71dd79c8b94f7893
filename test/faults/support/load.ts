/**
 * The fault suite's load: tenants with a file, an app and a grant each; operations submitted continuously
 * (each with an Idempotency-Key, retried after a 503 or a dropped connection as a client would), accepted ids
 * recorded, results read back while the fault lasts; afterwards every accepted operation polled to an end.
 */
import { randomUUID } from 'node:crypto';
import { DEV_RELAYER_PRIVATE_KEY, GrantRelayer } from '@hearth/permissions';
import { type App, newApp, newTenant, type OperationBody, type Tenant, uploadText } from '../../support/flow';
import { bearer } from '../../support/siwe';
import { sleep } from './servers';
import type { FaultStack } from './stack';

export interface LoadTenant {
  tenant: Tenant;
  app: App;
  fileId: string;
  grantId: string;
}

/** About `kib` KiB of diary text: enough work per job (tens of ms) that kills land mid-job. */
export function diaryText(kib: number): string {
  const line = (i: number) =>
    `Entry ${i}: the garden needed water again, so I walked to the river and talked with Ada about the harvest. `;
  const lines: string[] = [];
  for (let i = 0, size = 0; size < kib * 1024; i++) {
    lines.push(line(i));
    size += lines[i].length;
  }
  return lines.join('');
}

/**
 * Owners signed in, a file each, an app key each (rate limit out of the way) and an on-chain grant for `stats`
 * on that file; each grant is registered to be relayed again if the chain is restarted.
 */
export async function prepareTenants(stack: FaultStack, count: number, text: string): Promise<LoadTenant[]> {
  const relayerAt = (rpcUrl: string) =>
    new GrantRelayer({
      rpcUrl,
      chainId: 31337,
      dataPermissionsAddress: stack.chain.address,
      relayerPrivateKey: DEV_RELAYER_PRIVATE_KEY,
    });
  const relayer = relayerAt(stack.chain.rpcUrl);
  const out: LoadTenant[] = [];
  for (let i = 0; i < count; i++) {
    const tenant = await newTenant(stack.gatewayUrl);
    const fileId = await uploadText(stack.gatewayUrl, tenant, `diary-${i}.txt`, text);
    const app = await newApp(stack.gatewayUrl, tenant, { ratePerMinute: 1_000_000 });
    const typedData = await relayer.buildGrantTypedData({
      grantor: tenant.owner.address,
      grantee: app.account.address,
      serverId: tenant.serverId,
      operations: ['stats'],
      fileIds: [fileId],
    });
    const signature = await tenant.owner.signTypedData(typedData);
    const { grantId } = await relayer.relayGrant(typedData, signature);
    stack.chain.onRestart(async (rpcUrl) => {
      const again = await relayerAt(rpcUrl).relayGrant(typedData, signature);
      if (again.grantId !== grantId) throw new Error(`grant ${grantId} came back as ${again.grantId}`);
    });
    out.push({ tenant, app, fileId, grantId });
  }
  return out;
}

interface Answer {
  status: number | 'net';
  body: string;
  retryAfter: string | null;
}

const TERMINAL = new Set(['succeeded', 'failed', 'denied', 'cancelled']);
const ACCEPTED = new Set([200, 201, 202]);

/** What polling found for one accepted operation. */
export interface Ending {
  id: string;
  tenant: number;
  /** The operation as last read (undefined: it could not be read). */
  op?: OperationBody;
  /** Why it could not be read (HTTP status or error). */
  unreadable?: string;
}

export class Load {
  /** Accepted operation id → index of its tenant. */
  readonly accepted = new Map<string, number>();
  /** Idempotency key → the operation ids it was answered with (more than one is a duplicate). */
  readonly idsByKey = new Map<string, Set<string>>();
  /** Responses by `METHOD status` (`net` for no answer). */
  readonly responses = new Map<string, number>();
  /** The first few 5xx-other-than-503 answers, for the notes. */
  readonly serverErrorSamples: string[] = [];
  /** 503 answers without Retry-After or without a `*_unavailable` code. */
  badUnavailable = 0;
  /** Requests that ended without acceptance after their retries (refused, or the outage outlasted them). */
  notAccepted = 0;
  private running = false;
  private timer?: NodeJS.Timeout;
  private readonly inflight = new Set<Promise<void>>();
  private next = 0;

  constructor(
    private readonly url: string,
    private readonly tenants: LoadTenant[],
    private readonly opsPerSecond: number,
  ) {}

  /** Submits `opsPerSecond` operations a second (and reads one back per submission) until `stop()`. */
  start(): void {
    this.running = true;
    this.timer = setInterval(() => {
      this.track(this.submitOne());
      this.track(this.readOne());
    }, 1000 / this.opsPerSecond);
  }

  /** Submits `n` operations at once (a backlog), resolving when all were answered. */
  async burst(n: number): Promise<void> {
    await Promise.all(Array.from({ length: n }, () => this.submitOne()));
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    while (this.inflight.size) await Promise.all([...this.inflight]);
  }

  get serverErrors(): number {
    return this.count((status) => status >= 500 && status !== 503);
  }

  get unavailable(): number {
    return this.count((status) => status === 503);
  }

  private count(match: (status: number) => boolean): number {
    let n = 0;
    for (const [key, v] of this.responses) {
      const status = Number(key.split(' ')[1]);
      if (Number.isFinite(status) && match(status)) n += v;
    }
    return n;
  }

  private track(p: Promise<void>): void {
    const done = p.catch(() => undefined).finally(() => this.inflight.delete(done));
    this.inflight.add(done);
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    key: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    let answer: Answer;
    try {
      const res = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          ...bearer(key),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      answer = { status: res.status, body: await res.text(), retryAfter: res.headers.get('retry-after') };
    } catch (err) {
      answer = { status: 'net', body: err instanceof Error ? err.message : String(err), retryAfter: null };
    }
    const label = `${method} ${answer.status}`;
    this.responses.set(label, (this.responses.get(label) ?? 0) + 1);
    if (typeof answer.status === 'number' && answer.status >= 500) {
      const code = codeOf(answer.body);
      if (answer.status !== 503 && this.serverErrorSamples.length < 5)
        this.serverErrorSamples.push(`${method} ${path.replace(/op_\w+/, ':id')} ${answer.status} ${code}`);
      if (answer.status === 503 && (!answer.retryAfter || !code.endsWith('_unavailable')))
        this.badUnavailable++;
    }
    return answer;
  }

  private async submitOne(): Promise<void> {
    const index = this.next++ % this.tenants.length;
    const t = this.tenants[index];
    const idempotencyKey = randomUUID();
    for (let attempt = 1; attempt <= 5; attempt++) {
      const answer = await this.call(
        'POST',
        '/v1/operations',
        t.app.key,
        { operation: 'stats', fileIds: [t.fileId], parameters: {}, grantId: t.grantId },
        { 'idempotency-key': idempotencyKey },
      );
      if (typeof answer.status === 'number' && ACCEPTED.has(answer.status)) {
        const { id } = JSON.parse(answer.body) as { id: string };
        this.accepted.set(id, index);
        const ids = this.idsByKey.get(idempotencyKey) ?? new Set<string>();
        ids.add(id);
        this.idsByKey.set(idempotencyKey, ids);
        return;
      }
      // A client retries what an outage refused (5xx, no answer); anything else is the request's own fault.
      const retryable = answer.status === 'net' || answer.status >= 500 || answer.status === 429;
      if (!retryable) break;
      const after = Number(answer.retryAfter);
      await sleep(Number.isFinite(after) && after > 0 ? Math.min(after, 5) * 1000 : 1000);
    }
    this.notAccepted++;
  }

  private async readOne(): Promise<void> {
    const ids = [...this.accepted.keys()];
    if (!ids.length) return;
    const id = ids[Math.floor(Math.random() * ids.length)];
    await this.call('GET', `/v1/operations/${id}`, this.tenants[this.accepted.get(id)!].app.key);
  }

  /**
   * Polls every accepted operation until all have ended or `windowMs` has passed; returns what each was last
   * seen as. Reads still count in the responses: an outage's 500 after the fault is still a 500.
   */
  async settle(windowMs: number): Promise<Ending[]> {
    const deadline = Date.now() + windowMs;
    const endings = new Map<string, Ending>();
    let pending = [...this.accepted.keys()];
    for (;;) {
      const read = await mapLimit(pending, 8, async (id): Promise<Ending> => {
        const tenant = this.accepted.get(id)!;
        const answer = await this.call('GET', `/v1/operations/${id}`, this.tenants[tenant].app.key);
        if (answer.status !== 200) return { id, tenant, unreadable: `http ${answer.status}` };
        return { id, tenant, op: JSON.parse(answer.body) as OperationBody };
      });
      for (const e of read) endings.set(e.id, e);
      pending = read.filter((e) => !e.op || !TERMINAL.has(e.op.status)).map((e) => e.id);
      if (!pending.length || Date.now() > deadline) break;
      await sleep(1000);
    }
    return [...endings.values()];
  }
}

function codeOf(body: string): string {
  try {
    const { code } = JSON.parse(body) as { code?: unknown };
    return typeof code === 'string' ? code : '';
  } catch {
    return '';
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}
