import { codeHashOf, findOperation, validateOperationRequest } from './catalog';
import { InferenceError } from './errors';
import { checkOutputSize, prepareDocuments } from './text';
import type { InferenceOptions, InputDocument, RunContext, RunResult } from './types';

/** Collectives' default minimum number of contributors (docs/design.md). */
export const DEFAULT_K = 5;

/**
 * Runs one operation over decrypted documents. A plain async call with no state kept between
 * calls beyond loaded models, so it runs as is inside the worker's isolated child process.
 */
export async function runOperation(
  opts: InferenceOptions,
  name: string,
  params: unknown,
  docs: readonly InputDocument[],
  ctx: RunContext = {},
): Promise<RunResult> {
  const v = validateOperationRequest(opts, name, params);
  if (!v.ok) {
    const unknown = v.errors.some((e) => e.code === 'unknown_operation');
    throw new InferenceError(
      unknown ? 'unknown_operation' : 'invalid_parameters',
      unknown ? `no operation named "${name}" is available` : 'invalid operation parameters',
      v.errors,
    );
  }
  const impl = findOperation(opts, name)!;
  const k = ctx.k ?? DEFAULT_K;
  if (!Number.isInteger(k) || k < 1) throw new RangeError('k must be a positive integer');
  if (ctx.signal?.aborted) throw new InferenceError('aborted', 'the operation was cancelled');
  const prepared = prepareDocuments(docs, impl.limits, impl.lenientText === true);
  const runCtx = {
    opts,
    k,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(ctx.indexes ? { indexes: ctx.indexes } : {}),
  };
  let output: unknown;
  try {
    output = await impl.run(v.params, prepared, runCtx);
  } catch (e) {
    if (e instanceof InferenceError) throw e;
    throw new InferenceError('engine_failed', `operation ${name} failed`, undefined, {
      cause: e,
      retryable: false,
    });
  }
  checkOutputSize(output, impl.limits);
  return {
    output,
    engine: impl.engine,
    model: impl.model(opts),
    operationVersion: impl.version,
    codeHash: codeHashOf(impl, opts),
    quotedChars: impl.quotedChars ? impl.quotedChars(output) : stringChars(output),
  };
}

/** Characters of every string in a value: what an output without its own count may quote at most. */
export function stringChars(value: unknown, depth = 0): number {
  if (typeof value === 'string') return value.length;
  if (depth > 64 || value === null || typeof value !== 'object') return 0;
  let n = 0;
  for (const v of Array.isArray(value) ? value : Object.values(value as Record<string, unknown>))
    n += stringChars(v, depth + 1);
  return n;
}
