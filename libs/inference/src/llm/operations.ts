/**
 * LLM operations over a person's data, on the local `llama` engine or an `openai`-compatible server: a summary
 * written by the model, and an answer to a question that cites the passages it rests on. Each name has one
 * implementation per engine; exactly one is offered, the one `llmEngine` names (catalog, receipts and code hash
 * then say which engine ran).
 */
import { basename } from 'node:path';
import { z } from 'zod';
import { Bm25Index } from '../builtin/bm25';
import { getNlp, readSentences } from '../builtin/nlp';
import { indexTerms, splitPassages } from '../builtin/operations';
import { InferenceError } from '../errors';
import { defineOperation, KiB, MiB, type OperationImpl, type OperationRunContext } from '../operation';
import { throwIfAborted, type TextDocument } from '../text';
import type { EngineName, InferenceOptions } from '../types';
import { LLAMA_PACKAGE, llamaCompleter, llamaContextSize } from './llama';
import { openAICompleter, OPENAI_DEFAULTS } from './openai';
import { runPrompt, type Completer } from './prompt';

type LlmEngine = Extract<EngineName, 'llama' | 'openai'>;

/** Longest quote of a cited passage in an answer. */
export const LLM_QUOTE_CHARS = 300;
/** Longest answer the model may write. */
export const LLM_ANSWER_CHARS = 600;
/** Passages put before the model for one question (the best by BM25 that fit its context). */
const CANDIDATE_PASSAGES = 8;

interface Engine {
  name: LlmEngine;
  available(opts: InferenceOptions): boolean;
  model(opts: InferenceOptions): string;
  engineVersion(opts: InferenceOptions): string;
  /** The completer and the characters of prompt one call may carry. */
  open(opts: InferenceOptions): Promise<{ complete: Completer; contextChars: number }>;
}

function chosen(opts: InferenceOptions, engine: LlmEngine): boolean {
  return (opts.llmEngine ?? (opts.llama ? 'llama' : 'openai')) === engine;
}

const ENGINES: Record<LlmEngine, Engine> = {
  llama: {
    name: 'llama',
    available: (opts) => chosen(opts, 'llama') && opts.llama !== undefined && opts.llama.modelPath !== '',
    model: (opts) => (opts.llama ? basename(opts.llama.modelPath) : 'unconfigured'),
    engineVersion: () => `${LLAMA_PACKAGE}@3`,
    async open(opts) {
      const o = opts.llama;
      if (!o || o.modelPath === '')
        throw new InferenceError('engine_unavailable', 'no llama model path is configured');
      return { complete: llamaCompleter(o), contextChars: o.contextChars ?? (await llamaContextSize(o)) * 2 };
    },
  },
  openai: {
    name: 'openai',
    available: (opts) => chosen(opts, 'openai') && opts.openai !== undefined,
    model: (opts) => opts.openai?.model ?? 'unconfigured',
    engineVersion: (opts) =>
      `openai-compatible:${opts.openai ? new URL(opts.openai.baseUrl).origin : 'none'}`,
    async open(opts) {
      const o = opts.openai;
      if (!o) throw new InferenceError('engine_unavailable', 'no OpenAI-compatible server is configured');
      return { complete: openAICompleter(o), contextChars: o.contextChars ?? OPENAI_DEFAULTS.contextChars };
    },
  },
};

/** Documents as the model sees them: labelled by file id, never by file name. */
function labelled(docs: readonly TextDocument[]): TextDocument[] {
  return docs.map((d) => ({ ...d, name: d.fileId }));
}

// ---------------------------------------------------------------- llm_summarize

const summarizeParams = z
  .object({
    maxWords: z.number().int().min(10).max(400).default(120).describe('longest summary, in words'),
    focus: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe('what the summary should be about (a person, a topic)'),
  })
  .strict();
type SummarizeParams = z.infer<typeof summarizeParams>;

function summarizeFor(engine: Engine): OperationImpl {
  return defineOperation({
    name: 'llm_summarize',
    version: '1.0.0',
    description:
      `Summarizes the data with a language model (${engine.name} engine). Discloses: one summary the model ` +
      'writes, of at most maxWords words, which may restate any fact in the files; no passage is quoted on ' +
      'purpose, but a model can repeat phrases. Large inputs are summarized in parts, then combined.',
    engine: engine.name,
    aggregate: false,
    params: summarizeParams,
    limits: { maxInputBytes: 1 * MiB, maxOutputBytes: 64 * KiB, maxDocuments: 1000 },
    available: engine.available,
    model: engine.model,
    engineVersion: engine.engineVersion,
    async run(params, docs, ctx) {
      const { complete, contextChars } = await engine.open(ctx.opts);
      const about = params.focus ? `, about ${params.focus},` : '';
      const out = (await runPrompt(
        {
          system:
            'You summarize personal notes, messages and emails for their owner. Leave out headers, quoted ' +
            'replies and markup. Write plain prose.',
          template: `Summarize the following${about} in at most ${params.maxWords} words.\n\n{{data}}`,
          maxTokens: Math.ceil(params.maxWords * 2),
          temperature: 0,
        },
        labelled(docs),
        complete,
        contextChars,
        ctx.signal,
      )) as { text: string; chunks: number; calls: number };
      const words = out.text.trim().split(/\s+/).filter(Boolean);
      return {
        summary: words.slice(0, params.maxWords).join(' '),
        chunks: out.chunks,
        calls: out.calls,
      };
    },
  } satisfies OperationImpl<SummarizeParams>);
}

// ---------------------------------------------------------------- llm_ask

const askParams = z
  .object({
    question: z.string().trim().min(1).max(1000).describe('a question about the data'),
    maxAnswerChars: z
      .number()
      .int()
      .min(20)
      .max(LLM_ANSWER_CHARS)
      .default(LLM_ANSWER_CHARS)
      .describe('longest answer the model may write, in characters'),
    maxCitations: z
      .number()
      .int()
      .min(0)
      .max(5)
      .default(3)
      .describe(`passages the answer may cite and quote (each ≤ ${LLM_QUOTE_CHARS} characters)`),
  })
  .strict();
type AskParams = z.infer<typeof askParams>;

interface Candidate {
  id: string;
  fileId: string;
  passage: number;
  text: string;
}

/** The passages most relevant to the question by BM25, in document order after the ranking, within `chars`. */
async function candidates(
  question: string,
  docs: readonly TextDocument[],
  chars: number,
  signal?: AbortSignal,
): Promise<Candidate[]> {
  const passages = await splitPassages(docs, signal);
  throwIfAborted(signal);
  const nlp = await getNlp();
  const query = readSentences(nlp, question).flatMap((s) => indexTerms(s.tokens));
  const ranked = new Bm25Index(passages.map((p) => p.terms))
    .search(query, CANDIDATE_PASSAGES)
    .map((h) => h.index);
  // A question that shares no word with the data still gets passages to read: the first ones.
  for (let i = 0; ranked.length < CANDIDATE_PASSAGES && i < passages.length; i++)
    if (!ranked.includes(i)) ranked.push(i);
  const out: Candidate[] = [];
  let used = 0;
  for (const i of ranked) {
    const p = passages[i];
    const cost = p.text.length + 40;
    if (out.length > 0 && used + cost > chars) break;
    used += cost;
    out.push({
      id: `${p.fileId}#${p.passage}`,
      fileId: p.fileId,
      passage: p.passage,
      text: p.text,
    });
  }
  return out;
}

/**
 * JSON Schema of the model's answer: citations can only be ids it was shown. `lengthLimits` off for servers whose
 * strict mode refuses `maxLength` (OpenAI's); the answer is cut to length after it arrives either way.
 */
export function answerSchema(
  ids: readonly string[],
  maxCitations: number,
  maxAnswerChars: number,
  lengthLimits = true,
): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      answer: lengthLimits ? { type: 'string', maxLength: maxAnswerChars } : { type: 'string' },
      citations: {
        type: 'array',
        items: { type: 'string', enum: ids.length > 0 ? [...ids] : ['none'] },
        maxItems: maxCitations,
      },
    },
    required: ['answer', 'citations'],
    additionalProperties: false,
  };
}

function askFor(engine: Engine): OperationImpl {
  return defineOperation({
    name: 'llm_ask',
    version: '1.0.0',
    description:
      `Answers a question from the data with a language model (${engine.name} engine), citing passages by id ` +
      `(fileId#n). Discloses: an answer the model writes (≤ maxAnswerChars, at most ${LLM_ANSWER_CHARS} ` +
      'characters) and quotes of up ' +
      `to maxCitations (default 3, at most 5) cited passages of ≤ ${LLM_QUOTE_CHARS} characters each; the ` +
      'output counts the characters it quotes.',
    engine: engine.name,
    aggregate: false,
    params: askParams,
    limits: { maxInputBytes: 4 * MiB, maxOutputBytes: 16 * KiB, maxDocuments: 1000 },
    available: engine.available,
    model: engine.model,
    engineVersion: engine.engineVersion,
    async run(params, docs, ctx: OperationRunContext) {
      const { complete, contextChars } = await engine.open(ctx.opts);
      const shown = await candidates(
        params.question,
        docs,
        Math.floor(contextChars * 0.75) - params.question.length,
        ctx.signal,
      );
      const byId = new Map(shown.map((c) => [c.id, c]));
      const passages = shown.map((c) => `[${c.id}]\n${c.text}`).join('\n\n');
      const completion = await complete({
        system:
          "You answer questions about the user's own notes, messages and emails, using only the passages " +
          'given. Cite the ids of the passages your answer rests on. If they do not say, answer that you do not know.',
        user: `Passages:\n\n${passages}\n\nQuestion: ${params.question}\n\nAnswer as JSON.`,
        jsonSchema: answerSchema(
          [...byId.keys()],
          params.maxCitations,
          params.maxAnswerChars,
          engine.name === 'llama',
        ),
        // Room for the longest answer the schema allows (a character can take up to 4 byte tokens) and its ids.
        maxTokens: 4 * params.maxAnswerChars + 48 * params.maxCitations + 64,
        temperature: 0,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      let parsed: { answer?: unknown; citations?: unknown };
      try {
        parsed = JSON.parse(completion.content) as typeof parsed;
      } catch (e) {
        throw new InferenceError('engine_failed', 'the model did not return valid JSON', undefined, {
          cause: e,
          retryable: true,
        });
      }
      // Checked again here: a server may not honour every keyword of the schema.
      const answer = typeof parsed.answer === 'string' ? parsed.answer.slice(0, params.maxAnswerChars) : '';
      const cited = Array.isArray(parsed.citations) ? parsed.citations : [];
      const ids = [...new Set(cited.filter((c): c is string => typeof c === 'string' && byId.has(c)))];
      const citations = ids.slice(0, params.maxCitations).map((id) => {
        const c = byId.get(id)!;
        return { id, fileId: c.fileId, passage: c.passage, quote: c.text.slice(0, LLM_QUOTE_CHARS) };
      });
      return {
        question: params.question,
        answer,
        citations,
        quotedCharacters: citations.reduce((n, c) => n + c.quote.length, 0),
        passagesShown: shown.length,
      };
    },
  } satisfies OperationImpl<AskParams>);
}

export const llmOperations: OperationImpl[] = [
  summarizeFor(ENGINES.llama),
  summarizeFor(ENGINES.openai),
  askFor(ENGINES.llama),
  askFor(ENGINES.openai),
];
