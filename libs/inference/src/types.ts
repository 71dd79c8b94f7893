import type { JsonSchema7Type } from 'zod-to-json-schema';
import type { FileIndex } from './retrieval/file-index';

export type EngineName = 'builtin' | 'openai' | 'llama';

/** An OpenAI-compatible chat-completions server (vLLM, Ollama, llama.cpp's server, OpenAI itself). */
export interface OpenAIEngineOptions {
  /** Base URL including the API prefix, e.g. `http://vllm:8000/v1`. */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** Base URLs the operator allows to receive tenant data; `baseUrl` must be one of them (or below one). */
  trustedBaseUrls: string[];
  /** Per request. Default 60 000. */
  timeoutMs?: number;
  /** Retries on 429/5xx/network errors. Default 3. */
  maxRetries?: number;
  /** First backoff delay; doubles each retry. Default 500. */
  retryBaseMs?: number;
  /** Characters of prompt (template + system + data) per request before the data is chunked. Default 24 000. */
  contextChars?: number;
}

/** A local GGUF model run in-process by node-llama-cpp (an optional package the operator installs). */
export interface LlamaEngineOptions {
  modelPath: string;
  /** Tokens of context to allocate. Default 4096. */
  contextSize?: number;
  /** Characters of prompt per call before chunking. Default contextSize * 2. */
  contextChars?: number;
  /** Wall-clock limit per completion, waiting for the context included. Default 45 000. */
  timeoutMs?: number;
  /** Threads llama.cpp evaluates with. Default 1. */
  threads?: number;
  /** Module to load instead of `node-llama-cpp` (a vendored build, or a stand-in in tests). */
  module?: string;
}

export interface InferenceOptions {
  openai?: OpenAIEngineOptions;
  llama?: LlamaEngineOptions;
  /** Engine of the LLM operations (llm_summarize, llm_ask). Default: llama when configured, else openai. */
  llmEngine?: 'llama' | 'openai';
}

export interface OperationLimits {
  /** Sum of the UTF-8 sizes of all input documents. */
  maxInputBytes: number;
  /** UTF-8 size of the JSON-serialised output. */
  maxOutputBytes: number;
  /** Upper bound on the number of input documents. */
  maxDocuments: number;
}

/** A catalog entry, as served by `GET /v1/operations/catalog`. */
export interface OperationDefinition {
  name: string;
  version: string;
  description: string;
  engine: EngineName;
  /** Aggregate operations run over a collective's pooled data and never return one member's text. */
  aggregate: boolean;
  paramsSchema: JsonSchema7Type;
  limits: OperationLimits;
  /** What the output reveals of the data (how many passages of what length, names, counts). */
  discloses: string;
}

interface InputDocumentBase {
  fileId: string;
  name: string;
  contentType: string;
  /** Member id of whoever contributed the file; required by aggregate operations. */
  contributor?: string;
}

/** One decrypted file: either already-decoded text or raw bytes (decoded here as UTF-8). */
export type InputDocument = InputDocumentBase &
  ({ text: string; bytes?: undefined } | { bytes: Uint8Array; text?: undefined });

export interface RunContext {
  /** Minimum number of distinct contributors for aggregate operations. Default 5. */
  k?: number;
  signal?: AbortSignal;
  /** Stored record indexes of some input files, by file id (see `deserializeFileIndex`). */
  indexes?: ReadonlyMap<string, FileIndex>;
}

export interface RunResult {
  output: unknown;
  engine: EngineName;
  model: string;
  operationVersion: string;
  /** sha256 of the operation's implementation identity; goes into signed receipts. */
  codeHash: `0x${string}`;
  /** Characters of the data the output quotes (receipt field `quotedChars`). */
  quotedChars: number;
}

export interface FieldError {
  field: string;
  code: string;
  message: string;
}

export type ValidationResult =
  | { ok: true; operation: OperationDefinition; params: Record<string, unknown> }
  | { ok: false; errors: FieldError[] };
