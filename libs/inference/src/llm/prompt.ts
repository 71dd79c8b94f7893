import { z } from 'zod';
import { InferenceError } from '../errors';
import { splitBlocks, throwIfAborted, type TextDocument } from '../text';

export const DATA_PLACEHOLDER = '{{data}}';

export const promptParams = z
  .object({
    template: z
      .string()
      .min(1)
      .max(32_000)
      .refine((t) => t.includes(DATA_PLACEHOLDER), {
        message: `the template must contain ${DATA_PLACEHOLDER}`,
      })
      .describe(`user prompt; ${DATA_PLACEHOLDER} is replaced by the documents' text`),
    system: z.string().max(32_000).optional().describe('system prompt'),
    jsonSchema: z
      .record(z.unknown())
      .refine((s) => typeof s.type === 'string' || typeof s.properties === 'object', {
        message: 'a JSON Schema object with "type" or "properties"',
      })
      .optional()
      .describe('JSON Schema of the output; turns on JSON output mode'),
    maxTokens: z.number().int().min(1).max(32_768).default(1024).describe('tokens to generate per call'),
    temperature: z
      .number()
      .min(0)
      .max(2)
      .default(0)
      .describe('sampling temperature; 0 is the most deterministic'),
  })
  .strict();

export type PromptParams = z.infer<typeof promptParams>;

export interface CompletionRequest {
  system?: string;
  user: string;
  jsonSchema?: Record<string, unknown>;
  maxTokens: number;
  temperature: number;
  signal?: AbortSignal;
}

export interface Completion {
  content: string;
  finishReason?: string;
  promptTokens?: number;
  completionTokens?: number;
}

/** One model call; engines (openai, llama) provide it, this module does templating and chunking. */
export type Completer = (req: CompletionRequest) => Promise<Completion>;

export function formatDocuments(docs: readonly TextDocument[]): string {
  return docs.map((d) => `--- ${d.name} ---\n${d.text.trim()}`).join('\n\n');
}

function fill(template: string, data: string): string {
  return template.split(DATA_PLACEHOLDER).join(data);
}

const COMBINE_NOTE =
  'The input was too long for one request, so the instructions were applied to consecutive parts of it. ' +
  'Below are the results for each part; combine them into one result for the whole input.';

const MAX_COMBINE_ROUNDS = 6;
const MAP_CONCURRENCY = 4;

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(workers);
  return out;
}

/**
 * Runs a prompt template over the documents. When template + system + data exceed `contextChars`,
 * the data is cut into chunks at paragraph/sentence boundaries, the template is applied to each
 * chunk (map), and the partial results are combined with the same template (reduce, repeated
 * until they fit one request).
 */
export async function runPrompt(
  params: PromptParams,
  docs: readonly TextDocument[],
  complete: Completer,
  contextChars: number,
  signal?: AbortSignal,
): Promise<unknown> {
  const placeholders = params.template.split(DATA_PLACEHOLDER).length - 1;
  const overhead =
    params.template.length - placeholders * DATA_PLACEHOLDER.length + (params.system?.length ?? 0);
  const budget = Math.floor((contextChars - overhead - COMBINE_NOTE.length) / placeholders);
  if (budget < 200) {
    throw new InferenceError('invalid_parameters', 'the template and system prompt leave no room for data', [
      {
        field: 'parameters.template',
        code: 'too_big',
        message: `template and system prompt must leave room for data within ${contextChars} characters`,
      },
    ]);
  }
  let calls = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  let finishReason: string | undefined;
  const call = async (data: string): Promise<string> => {
    throwIfAborted(signal);
    const req: CompletionRequest = {
      user: fill(params.template, data),
      maxTokens: params.maxTokens,
      temperature: params.temperature,
    };
    if (params.system !== undefined) req.system = params.system;
    if (params.jsonSchema !== undefined) req.jsonSchema = params.jsonSchema;
    if (signal !== undefined) req.signal = signal;
    const c = await complete(req);
    calls++;
    promptTokens += c.promptTokens ?? 0;
    completionTokens += c.completionTokens ?? 0;
    finishReason = c.finishReason;
    return c.content;
  };

  const data = formatDocuments(docs);
  const chunks = data.length <= budget ? [data] : splitBlocks(data, budget);
  let results = await mapLimit(chunks, MAP_CONCURRENCY, call);
  for (let round = 0; results.length > 1; round++) {
    if (round >= MAX_COMBINE_ROUNDS) {
      throw new InferenceError('engine_failed', 'partial results did not converge to one answer', undefined, {
        retryable: false,
      });
    }
    const parts = results.map((r, i) => `--- part ${i + 1} of ${results.length} ---\n${r.trim()}`);
    // Group consecutive parts so each combine request fits the budget.
    const groups: string[] = [];
    let current = '';
    for (const p of parts) {
      if (current.length > 0 && current.length + p.length + 2 > budget) {
        groups.push(current);
        current = '';
      }
      current = current.length > 0 ? `${current}\n\n${p}` : p;
    }
    groups.push(current);
    if (groups.length === results.length) {
      // Each partial result alone fills a request: combining cannot shrink them.
      throw new InferenceError(
        'engine_failed',
        'partial results are too long to combine; lower maxTokens',
        undefined,
        {
          retryable: false,
        },
      );
    }
    results = await mapLimit(groups, MAP_CONCURRENCY, (g) => call(`${COMBINE_NOTE}\n\n${g}`));
  }
  const content = results[0] ?? '';
  const meta = { chunks: chunks.length, calls, finishReason, usage: { promptTokens, completionTokens } };
  if (params.jsonSchema === undefined) return { text: content, ...meta };
  try {
    return { json: JSON.parse(content) as unknown, ...meta };
  } catch (e) {
    throw new InferenceError(
      'engine_failed',
      'the model did not return valid JSON in JSON output mode',
      undefined,
      {
        cause: e,
        retryable: true,
      },
    );
  }
}
