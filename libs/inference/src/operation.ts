import type { z } from 'zod';
import type { TextDocument } from './text';
import type { EngineName, InferenceOptions, OperationLimits } from './types';

export interface OperationRunContext {
  opts: InferenceOptions;
  /** Distinct contributors required by aggregate operations. */
  k: number;
  signal?: AbortSignal;
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

export const MiB = 1024 * 1024;
export const KiB = 1024;
