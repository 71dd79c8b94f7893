import { setTimeout as sleep } from 'node:timers/promises';
import { InferenceError } from '../errors';
import { defineOperation, MiB, type OperationImpl } from '../operation';
import type { OpenAIEngineOptions } from '../types';
import { promptParams, runPrompt, type Completer, type Completion, type PromptParams } from './prompt';

export const OPENAI_DEFAULTS = {
  timeoutMs: 60_000,
  maxRetries: 3,
  retryBaseMs: 500,
  contextChars: 24_000,
} as const;

const MAX_RETRY_AFTER_MS = 30_000;

interface NormalisedUrl {
  origin: string;
  path: string;
}

function normaliseUrl(raw: string): NormalisedUrl | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return undefined;
  return { origin: url.origin, path: url.pathname.replace(/\/+$/, '') };
}

/**
 * Whether `baseUrl` is one of the operator's trusted base URLs or below one (same scheme, host and
 * port; path equal or under it on a segment boundary). Anything unparsable is untrusted.
 */
export function isTrustedBaseUrl(baseUrl: string, trusted: readonly string[]): boolean {
  const b = normaliseUrl(baseUrl);
  if (!b) return false;
  return trusted.some((raw) => {
    const t = normaliseUrl(raw);
    return t !== undefined && t.origin === b.origin && (b.path === t.path || b.path.startsWith(`${t.path}/`));
  });
}

interface ChatCompletionResponse {
  model?: string;
  choices?: { message?: { content?: string | null }; finish_reason?: string }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.min(Math.max(date - Date.now(), 0), MAX_RETRY_AFTER_MS);
}

/** A chat-completions call with a per-request timeout and retries with exponential backoff on 429, 5xx and network errors. */
export function openAICompleter(o: OpenAIEngineOptions): Completer {
  if (!isTrustedBaseUrl(o.baseUrl, o.trustedBaseUrls)) {
    // Checked before anything is sent: data never leaves for an endpoint the operator did not trust.
    throw new InferenceError(
      'untrusted_endpoint',
      'the configured OpenAI-compatible base URL is not in the trusted list',
    );
  }
  const timeoutMs = o.timeoutMs ?? OPENAI_DEFAULTS.timeoutMs;
  const maxRetries = o.maxRetries ?? OPENAI_DEFAULTS.maxRetries;
  const retryBaseMs = o.retryBaseMs ?? OPENAI_DEFAULTS.retryBaseMs;
  const url = `${o.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (o.apiKey) headers.authorization = `Bearer ${o.apiKey}`;

  return async (req) => {
    const messages = [
      ...(req.system !== undefined ? [{ role: 'system', content: req.system }] : []),
      { role: 'user', content: req.user },
    ];
    const body = JSON.stringify({
      model: o.model,
      messages,
      max_tokens: req.maxTokens,
      temperature: req.temperature,
      stream: false,
      ...(req.jsonSchema !== undefined
        ? {
            response_format: {
              type: 'json_schema',
              json_schema: { name: 'output', schema: req.jsonSchema, strict: true },
            },
          }
        : {}),
    });
    let lastFailure = '';
    for (let attempt = 0; ; attempt++) {
      if (req.signal?.aborted) throw new InferenceError('aborted', 'the operation was cancelled');
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
      let delay: number | undefined;
      try {
        // Never follow a redirect: a trusted endpoint answering 307 would have the data re-sent, body and all,
        // wherever it points, past the trusted list.
        const res = await fetch(url, { method: 'POST', headers, body, signal, redirect: 'manual' });
        if (res.status >= 300 && res.status < 400) {
          await res.arrayBuffer().catch(() => undefined);
          throw new InferenceError(
            'engine_failed',
            `the model server answered with a redirect (HTTP ${res.status}); redirects are not followed`,
            undefined,
            { retryable: false },
          );
        }
        if (res.ok) {
          const json = (await res.json()) as ChatCompletionResponse;
          return parseCompletion(json);
        }
        // Drain the body so the connection is reused; its text is not logged (it may echo the data).
        await res.arrayBuffer().catch(() => undefined);
        lastFailure = `HTTP ${res.status}`;
        if (res.status !== 429 && res.status < 500) {
          throw new InferenceError(
            'engine_failed',
            `the model server refused the request (${lastFailure})`,
            undefined,
            {
              retryable: false,
            },
          );
        }
        delay = retryAfterMs(res.headers.get('retry-after'));
      } catch (e) {
        if (e instanceof InferenceError) throw e;
        if (req.signal?.aborted)
          throw new InferenceError('aborted', 'the operation was cancelled', undefined, { cause: e });
        if (timeout.aborted) {
          throw new InferenceError(
            'timeout',
            `the model server did not answer within ${timeoutMs} ms`,
            undefined,
            {
              cause: e,
            },
          );
        }
        lastFailure = e instanceof Error ? e.message : 'network error';
      }
      if (attempt >= maxRetries) {
        throw new InferenceError(
          'engine_failed',
          `the model server failed after ${attempt + 1} attempt(s) (${lastFailure})`,
        );
      }
      await sleep(
        delay ?? retryBaseMs * 2 ** attempt,
        undefined,
        req.signal ? { signal: req.signal } : {},
      ).catch(() => {
        throw new InferenceError('aborted', 'the operation was cancelled');
      });
    }
  };
}

function parseCompletion(json: ChatCompletionResponse): Completion {
  const choice = json.choices?.[0];
  const content = choice?.message?.content;
  if (typeof content !== 'string') {
    throw new InferenceError('engine_failed', 'the model server returned no message content');
  }
  const c: Completion = { content };
  if (choice?.finish_reason !== undefined) c.finishReason = choice.finish_reason;
  if (json.usage?.prompt_tokens !== undefined) c.promptTokens = json.usage.prompt_tokens;
  if (json.usage?.completion_tokens !== undefined) c.completionTokens = json.usage.completion_tokens;
  return c;
}

export const openaiPrompt = defineOperation({
  name: 'prompt',
  version: '1.0.0',
  description:
    'Runs a prompt template over the data on the operator’s OpenAI-compatible model server; {{data}} is replaced by the documents. Large inputs are chunked and the partial results combined. Optional JSON output mode.',
  engine: 'openai',
  aggregate: false,
  params: promptParams,
  limits: { maxInputBytes: 4 * MiB, maxOutputBytes: 1 * MiB, maxDocuments: 1000 },
  available: (opts) => opts.openai !== undefined,
  model: (opts) => opts.openai?.model ?? 'unconfigured',
  engineVersion: (opts) =>
    `openai-compatible:${opts.openai ? (normaliseUrl(opts.openai.baseUrl)?.origin ?? 'invalid') : 'none'}`,
  async run(params, docs, ctx) {
    const o = ctx.opts.openai;
    if (!o) throw new InferenceError('engine_unavailable', 'no OpenAI-compatible server is configured');
    const complete = openAICompleter(o);
    return runPrompt(params, docs, complete, o.contextChars ?? OPENAI_DEFAULTS.contextChars, ctx.signal);
  },
} satisfies OperationImpl<PromptParams>);
