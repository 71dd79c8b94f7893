import type { z } from 'zod';
import type { FileIndex } from './retrieval/file-index';
import type { TextDocument } from './text';
import type { EngineName, InferenceOptions, OperationLimits } from './types';

export interface OperationRunContext {
  opts: InferenceOptions;
  /** Distinct contributors required by aggregate operations. */
  k: number;
  signal?: AbortSignal;
  /** Stored indexes of some input files (by file id), built by the indexing job; others are parsed now. */
  indexes?: ReadonlyMap<string, FileIndex>;
}

/** An operation's implementation: its catalog entry plus how to run it. */
export interface OperationImpl<P = unknown> {
  name: string;
  version: string;
  description: string;
  engine: EngineName;
  aggregate: boolean;
  params: z.ZodType<P, z.ZodTypeDef, unknown>;
  limits: OperationLimits;
  /** What the output reveals of the data, in words (the catalog shows it; e.g. "quotes up to 3 passages…"). */
  discloses?: string;
  /** Reads any text content type, replacing invalid UTF-8 with a per-file warning instead of refusing. */
  lenientText?: boolean;
  /** Works on the files' records, so a stored record index (built once per file version) can stand in for parsing. */
  records?: boolean;
  /**
   * Characters of the data the output reproduces verbatim (quotes, names, terms); signed into the receipt.
   * Without it every string in the output counts: an upper bound.
   */
  quotedChars?(output: unknown): number;
  /** Whether the operation is offered under these options (engines without config are absent). */
  available(opts: InferenceOptions): boolean;
  /** Model identity for receipts, e.g. `wink-eng-lite-web-model@1.8.1`. */
  model(opts: InferenceOptions): string;
  /** Engine implementation identity (package versions, endpoint) hashed into codeHash. */
  engineVersion(opts: InferenceOptions): string;
  run(params: P, docs: TextDocument[], ctx: OperationRunContext): Promise<unknown>;
}

/** Erases the parameter type so operations of different shapes share one registry. */
export function defineOperation<P>(impl: OperationImpl<P>): OperationImpl {
  return impl;
}

/** What an operation without its own statement may reveal. */
export const UNBOUNDED_DISCLOSURE = 'may reproduce any part of the data; no bound is stated';

export const MiB = 1024 * 1024;
export const KiB = 1024;
