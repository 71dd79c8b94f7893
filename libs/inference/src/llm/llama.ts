import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { InferenceError } from '../errors';
import { readGgufHeader } from './gguf';
import { defineOperation, MiB, type OperationImpl } from '../operation';
import type { LlamaEngineOptions } from '../types';
import { promptParams, runPrompt, type Completer, type PromptParams } from './prompt';

/**
 * node-llama-cpp is not a dependency: it is ESM-only, ships a postinstall step that can download and
 * compile llama.cpp, and pulls multi-hundred-MB GPU binaries as optional packages. Operators who
 * want the llama engine install it themselves; it is loaded on first use with a real dynamic
 * import, and told never to build or download anything at run time.
 */
export const LLAMA_PACKAGE = 'node-llama-cpp';

export const LLAMA_DEFAULTS = { contextSize: 4096, timeoutMs: 45_000, threads: 1 } as const;

// The subset of node-llama-cpp v3's API used here.
interface LlamaModule {
  getLlama(options?: {
    build?: 'never' | 'auto' | 'try' | 'forceRebuild';
    gpu?: false;
    progressLogs?: boolean;
    maxThreads?: number;
    logLevel?: 'disabled' | 'fatal' | 'error' | 'warn' | 'info' | 'log' | 'debug';
  }): Promise<Llama>;
  LlamaChatSession: new (options: { contextSequence: unknown; systemPrompt?: string }) => LlamaChatSession;
}
interface Llama {
  loadModel(options: { modelPath: string }): Promise<LlamaModel>;
  createGrammarForJsonSchema(schema: Record<string, unknown>): Promise<unknown>;
}
interface LlamaModel {
  /** Absent in stand-ins: then the configured size is used as is. */
  readonly trainContextSize?: number;
  createContext(options?: { contextSize?: number; threads?: number }): Promise<LlamaContext>;
}
interface LlamaContext {
  getSequence(): unknown;
  dispose(): Promise<void>;
}
interface LlamaChatSession {
  prompt(
    text: string,
    options?: { maxTokens?: number; temperature?: number; grammar?: unknown; signal?: AbortSignal },
  ): Promise<string>;
  dispose(): void;
}

// why: swc compiles `import()` to `require()` under CommonJS, which cannot load an ESM-only
// package whose graph uses top-level await; a Function keeps a true dynamic import.
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const importModule = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<unknown>;

interface Loaded {
  mod: LlamaModule;
  llama: Llama;
  model: LlamaModel;
}

const loaded = new Map<string, Promise<Loaded>>();

async function load(o: LlamaEngineOptions): Promise<Loaded> {
  try {
    const s = await stat(o.modelPath);
    if (!s.isFile()) throw new Error('not a file');
  } catch (e) {
    throw new InferenceError(
      'engine_unavailable',
      `the llama model file ${o.modelPath} does not exist or is not a file`,
      undefined,
      {
        cause: e,
        retryable: false,
      },
    );
  }
  try {
    // node-llama-cpp given a file that is not GGUF leaves its load pending forever: refuse it first.
    readGgufHeader(o.modelPath);
  } catch (e) {
    throw new InferenceError(
      'engine_unavailable',
      `the llama model file ${o.modelPath} is not a readable GGUF model`,
      undefined,
      { cause: e, retryable: false },
    );
  }
  let mod: LlamaModule;
  try {
    mod = (await importModule(o.module ?? LLAMA_PACKAGE)) as LlamaModule;
  } catch (e) {
    throw new InferenceError(
      'engine_unavailable',
      `the llama engine needs the ${LLAMA_PACKAGE} package, which is not installed (npm install ${LLAMA_PACKAGE}@^3)`,
      undefined,
      { cause: e, retryable: false },
    );
  }
  try {
    // CPU only, never built or downloaded here; threads bounded (llama.cpp's default of 4 on 2 cores made 50
    // tokens take 115 s under load).
    const llama = await mod.getLlama({
      build: 'never',
      gpu: false,
      progressLogs: false,
      maxThreads: threadsOf(o),
      logLevel: 'error',
    });
    const model = await llama.loadModel({ modelPath: o.modelPath });
    return { mod, llama, model };
  } catch (e) {
    throw new InferenceError('engine_unavailable', `${LLAMA_PACKAGE} could not load the model`, undefined, {
      cause: e,
      retryable: false,
    });
  }
}

/** The model is loaded once per process and kept (weights only; contexts holding data are per call). */
function getLoaded(o: LlamaEngineOptions): Promise<Loaded> {
  const key = `${o.module ?? LLAMA_PACKAGE}\u0000${o.modelPath}`;
  let p = loaded.get(key);
  if (!p) {
    p = load(o);
    // A failed load is not cached: the operator may install the package or the file later.
    p.catch(() => loaded.delete(key));
    loaded.set(key, p);
  }
  return p;
}

function threadsOf(o: LlamaEngineOptions): number {
  return Math.max(1, Math.floor(o.threads ?? LLAMA_DEFAULTS.threads));
}

/** Tokens of context a completion gets: the configured size, within what the model was trained on. */
export async function llamaContextSize(o: LlamaEngineOptions): Promise<number> {
  const { model } = await getLoaded(o);
  const wanted = o.contextSize ?? LLAMA_DEFAULTS.contextSize;
  return model.trainContextSize ? Math.min(wanted, model.trainContextSize) : wanted;
}

/**
 * One context at a time in this process, first come first served: each holds a KV cache sized for the whole
 * context (and the call's data in it), so concurrent calls would multiply memory and split the threads.
 */
export class ContextQueue {
  private busy = false;
  private readonly waiting: Array<() => void> = [];

  /** Waits for the context's turn (or the signal); the returned function hands it to the next caller. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.busy) {
      await new Promise<void>((resolve, reject) => {
        const start = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.waiting.indexOf(start);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        };
        this.waiting.push(start);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    this.busy = true;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The turn passes straight to the next caller: nobody can slip in between.
      if (next) next();
      else this.busy = false;
    };
  }

  get queued(): number {
    return this.waiting.length;
  }
}

const contexts = new ContextQueue();

export function llamaCompleter(o: LlamaEngineOptions): Completer {
  const timeoutMs = o.timeoutMs ?? LLAMA_DEFAULTS.timeoutMs;
  return async (req) => {
    // The timeout covers the wait for the context too: a call stuck behind others fails as a timeout.
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
    const failed = (e: unknown): InferenceError => {
      if (e instanceof InferenceError) return e;
      if (req.signal?.aborted)
        return new InferenceError('aborted', 'the operation was cancelled', undefined, { cause: e });
      if (timeout.aborted) {
        return new InferenceError(
          'timeout',
          `the local model did not finish within ${timeoutMs} ms`,
          undefined,
          { cause: e },
        );
      }
      return new InferenceError('engine_failed', 'the local model failed', undefined, { cause: e });
    };
    const { mod, llama, model } = await getLoaded(o);
    const contextSize = await llamaContextSize(o);
    let release: () => void;
    try {
      release = await contexts.acquire(signal);
    } catch (e) {
      throw failed(e);
    }
    try {
      // A fresh context per call: nothing of one chunk's or job's text stays in the KV cache.
      const context = await model.createContext({ contextSize, threads: threadsOf(o) });
      try {
        const session = new mod.LlamaChatSession({
          contextSequence: context.getSequence(),
          ...(req.system !== undefined ? { systemPrompt: req.system } : {}),
        });
        const grammar = req.jsonSchema ? await llama.createGrammarForJsonSchema(req.jsonSchema) : undefined;
        const content = await session.prompt(req.user, {
          maxTokens: req.maxTokens,
          temperature: req.temperature,
          signal,
          ...(grammar !== undefined ? { grammar } : {}),
        });
        session.dispose();
        return { content };
      } finally {
        await context.dispose();
        // node-llama-cpp frees the threads it reserved on a zero-delay timer; a timer set after it fires after
        // it, so the call ends with no timer of the engine's alive (the child counts live timers as leaks).
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
      }
    } catch (e) {
      throw failed(e);
    } finally {
      release();
    }
  };
}

export const llamaPrompt = defineOperation({
  name: 'local_prompt',
  version: '1.0.0',
  description:
    'Runs a prompt template over the data with a local GGUF model (node-llama-cpp) inside the job process; {{data}} is replaced by the documents. Large inputs are chunked and the partial results combined. Optional JSON output mode (grammar-constrained).',
  engine: 'llama',
  aggregate: false,
  params: promptParams,
  limits: { maxInputBytes: 1 * MiB, maxOutputBytes: 1 * MiB, maxDocuments: 1000 },
  available: (opts) => opts.llama !== undefined && opts.llama.modelPath !== '',
  model: (opts) => (opts.llama ? basename(opts.llama.modelPath) : 'unconfigured'),
  engineVersion: () => `${LLAMA_PACKAGE}@3`,
  async run(params, docs, ctx) {
    const o = ctx.opts.llama;
    if (!o || o.modelPath === '')
      throw new InferenceError('engine_unavailable', 'no llama model path is configured');
    const contextChars = o.contextChars ?? (await llamaContextSize(o)) * 2;
    return runPrompt(params, docs, llamaCompleter(o), contextChars, ctx.signal);
  },
} satisfies OperationImpl<PromptParams>);
