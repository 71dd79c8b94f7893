import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small OpenAI-compatible server (`POST /v1/chat/completions`) for tests. It checks each request
 * the way a strict server would (model, messages, JSON mode), records it, and answers
 * deterministically from the request's content. Failures can be scripted per request.
 */

export type FakeBehaviour =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; retryAfter?: string }
  /** Never answers (until the server closes): exercises client timeouts. */
  | { kind: 'hang' }
  /** Answers with a redirect to `location` (e.g. another server that records whether the data reached it). */
  | { kind: 'redirect'; status: 301 | 302 | 303 | 307 | 308; location: string }
  | { kind: 'delay'; ms: number };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: ChatRequest | undefined;
  /** What the fake found wrong with the request; a non-empty list was answered 400. */
  problems: string[];
}

export interface ChatRequest {
  model?: unknown;
  messages?: { role?: unknown; content?: unknown }[];
  max_tokens?: unknown;
  temperature?: unknown;
  response_format?: { type?: unknown; json_schema?: { name?: unknown; schema?: unknown } };
}

export interface FakeOpenAI {
  /** e.g. `http://127.0.0.1:43121/v1`, what a client's base URL would be. */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Behaviours for the next requests, in order; after they are used up, requests succeed. */
  script(...behaviours: FakeBehaviour[]): void;
  /** The user message of each successfully answered request. */
  userMessages(): string[];
  /** Forgets recorded requests and scripted behaviours. */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeOpenAIOptions {
  /** Model the server serves; other model names are rejected. Default `fake-model`. */
  model?: string;
  /** Bearer token the server requires, if any. */
  apiKey?: string;
}

const sha8 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 8);

/** A deterministic value of the shape a (simple) JSON Schema describes. */
export function valueForSchema(schema: unknown, seed: string): unknown {
  const s = (schema ?? {}) as {
    type?: unknown;
    properties?: Record<string, unknown>;
    items?: unknown;
    enum?: unknown[];
  };
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  switch (s.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) out[k] = valueForSchema(v, seed);
      return out;
    }
    case 'array':
      return [valueForSchema(s.items, seed)];
    case 'integer':
    case 'number':
      return seed.length;
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return `sha:${sha8(seed)}`;
  }
}

function check(
  req: IncomingMessage,
  body: ChatRequest | undefined,
  options: Required<Pick<FakeOpenAIOptions, 'model'>> & FakeOpenAIOptions,
): string[] {
  const problems: string[] = [];
  if (req.method !== 'POST') problems.push(`method ${req.method ?? '?'}`);
  if (req.url !== '/v1/chat/completions') problems.push(`path ${req.url ?? '?'}`);
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json'))
    problems.push('content-type is not JSON');
  if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`)
    problems.push('bad authorization');
  if (!body) return [...problems, 'body is not JSON'];
  if (body.model !== options.model) problems.push(`unknown model ${JSON.stringify(body.model)}`);
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    problems.push('messages missing');
  } else {
    for (const m of messages) {
      if (!['system', 'user', 'assistant'].includes(String(m.role)))
        problems.push(`bad role ${String(m.role)}`);
      if (typeof m.content !== 'string' || m.content.length === 0)
        problems.push('message content must be a non-empty string');
    }
    if (messages[messages.length - 1]?.role !== 'user') problems.push('last message is not from the user');
  }
  if (body.max_tokens !== undefined && !(Number.isInteger(body.max_tokens) && Number(body.max_tokens) > 0))
    problems.push('bad max_tokens');
  if (
    body.temperature !== undefined &&
    !(typeof body.temperature === 'number' && body.temperature >= 0 && body.temperature <= 2)
  ) {
    problems.push('bad temperature');
  }
  const rf = body.response_format;
  if (rf !== undefined) {
    if (rf.type !== 'json_schema') problems.push(`response_format.type ${String(rf.type)}`);
    else if (
      typeof rf.json_schema?.name !== 'string' ||
      typeof rf.json_schema.schema !== 'object' ||
      rf.json_schema.schema === null
    ) {
      problems.push('response_format.json_schema needs name and schema');
    }
  }
  return problems;
}

function send(
  res: ServerResponse,
  status: number,
  json: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(json);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export async function startFakeOpenAI(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const options = { ...opts, model: opts.model ?? 'fake-model' };
  const requests: RecordedRequest[] = [];
  const answered: string[] = [];
  const queue: FakeBehaviour[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: ChatRequest | undefined;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequest;
      } catch {
        body = undefined;
      }
      const problems = check(req, body, options);
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, problems });
      const behaviour = queue.shift() ?? { kind: 'ok' };
      if (behaviour.kind === 'hang') return;
      if (behaviour.kind === 'redirect') {
        res.writeHead(behaviour.status, { location: behaviour.location, 'content-length': 0 });
        res.end();
        return;
      }
      if (behaviour.kind === 'status') {
        send(
          res,
          behaviour.status,
          { error: { message: 'scripted failure', type: 'server_error' } },
          behaviour.retryAfter !== undefined ? { 'retry-after': behaviour.retryAfter } : {},
        );
        return;
      }
      const answer = (): void => {
        if (problems.length > 0 || !body?.messages) {
          send(res, 400, { error: { message: problems.join('; '), type: 'invalid_request_error' } });
          return;
        }
        const user = String(body.messages[body.messages.length - 1]?.content);
        answered.push(user);
        const parts = user.split('--- part ').length - 1;
        const schema = body.response_format?.json_schema?.schema;
        const content =
          schema !== undefined
            ? JSON.stringify(valueForSchema(schema, user))
            : `answer sha:${sha8(user)} chars:${user.length} parts:${parts}`;
        send(res, 200, {
          id: `chatcmpl-${sha8(user)}`,
          object: 'chat.completion',
          created: 0,
          model: options.model,
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
          usage: {
            prompt_tokens: Math.ceil(user.length / 4),
            completion_tokens: Math.ceil(content.length / 4),
            total_tokens: 0,
          },
        });
      };
      if (behaviour.kind === 'delay') setTimeout(answer, behaviour.ms);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...b) => void queue.push(...b),
    userMessages: () => [...answered],
    reset: () => {
      requests.length = 0;
      answered.length = 0;
      queue.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
