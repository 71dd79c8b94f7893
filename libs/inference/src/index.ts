export { listCatalog, usesRecords, validateOperationRequest } from './catalog';
export { InferenceError, isInferenceError, type InferenceErrorCode } from './errors';
export { runOperation, DEFAULT_K } from './run';
export { isTextContentType } from './text';
export { isTrustedBaseUrl, OPENAI_DEFAULTS } from './llm/openai';
export { LLAMA_DEFAULTS } from './llm/llama';
export { llamaResidentEstimateMb, readGgufHeader } from './llm/gguf';
export type {
  EngineName,
  FieldError,
  InferenceOptions,
  InputDocument,
  LlamaEngineOptions,
  OpenAIEngineOptions,
  OperationDefinition,
  OperationLimits,
  RunContext,
  RunResult,
  ValidationResult,
} from './types';
export { defaultLlamaThreads, inferenceOptionsFromConfig } from './from-config';
export { warmupEngines } from './warmup';
export { privatize, laplaceNoise } from './builtin/privacy';
export {
  indexFile,
  openFileIndex,
  FILE_INDEX_VERSION,
  MAX_INDEXED_FILE_BYTES,
  type BuiltIndex,
  type FileIndex,
} from './records/index-file';
export { stringChars } from './run';
