import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { zodToJsonSchema, type JsonSchema7Type } from 'zod-to-json-schema';
import { aggregateOperations } from './builtin/aggregate';
import { builtinOperations } from './builtin/operations';
import { recordOperations } from './builtin/records-ops';
import { llamaPrompt } from './llm/llama';
import { openaiPrompt } from './llm/openai';
import { llmOperations } from './llm/operations';
import { UNBOUNDED_DISCLOSURE, type OperationImpl } from './operation';
import type { FieldError, InferenceOptions, OperationDefinition, ValidationResult } from './types';

const REGISTRY: readonly OperationImpl[] = [
  ...recordOperations,
  ...builtinOperations,
  ...aggregateOperations,
  openaiPrompt,
  llamaPrompt,
  ...llmOperations,
];

// why: zodToJsonSchema's generic signature instantiates too deeply on ZodType<unknown>; a plain
// function type over the same runtime call keeps tsc fast.
const toJsonSchema = zodToJsonSchema as unknown as (
  schema: z.ZodType<unknown, z.ZodTypeDef, unknown>,
  options: { target: 'jsonSchema7'; $refStrategy: 'none'; removeAdditionalStrategy: 'strict' },
) => JsonSchema7Type;

const schemas = new Map<string, JsonSchema7Type>();

function paramsSchema(impl: OperationImpl): JsonSchema7Type {
  let s = schemas.get(impl.name);
  if (!s) {
    s = toJsonSchema(impl.params, {
      target: 'jsonSchema7',
      $refStrategy: 'none',
      removeAdditionalStrategy: 'strict',
    });
    schemas.set(impl.name, s);
  }
  return s;
}

/** The operation's implementation if it is offered under these options. */
export function findOperation(opts: InferenceOptions, name: string): OperationImpl | undefined {
  return REGISTRY.find((o) => o.name === name && o.available(opts));
}

/** Whether the operation reads records, so the worker hands it the files' stored indexes. */
export function usesRecords(opts: InferenceOptions, name: string): boolean {
  return findOperation(opts, name)?.records === true;
}

const codeHashes = new WeakMap<OperationImpl, Map<string, `0x${string}`>>();

/**
 * sha256 over the operation's implementation identity: name, version, engine and its version,
 * model, parameter schema and the source of its run function. Signed into receipts; kept per operation, engine
 * version and model (the options arrive as a fresh object with every job), as it hashes the function's source.
 */
export function codeHashOf(impl: OperationImpl, opts: InferenceOptions): `0x${string}` {
  const engineVersion = impl.engineVersion(opts);
  const model = impl.model(opts);
  let known = codeHashes.get(impl);
  if (!known) codeHashes.set(impl, (known = new Map<string, `0x${string}`>()));
  const key = `${engineVersion}\n${model}`;
  let hash = known.get(key);
  if (!hash) known.set(key, (hash = computeCodeHash(impl, engineVersion, model)));
  return hash;
}

function computeCodeHash(impl: OperationImpl, engineVersion: string, model: string): `0x${string}` {
  const identity = JSON.stringify({
    name: impl.name,
    version: impl.version,
    engine: impl.engine,
    engineVersion,
    model,
    params: paramsSchema(impl),
    discloses: impl.discloses ?? UNBOUNDED_DISCLOSURE,
    implementation: impl.run.toString(),
  });
  return `0x${createHash('sha256').update(identity).digest('hex')}`;
}

function definition(
  impl: OperationImpl,
  opts: InferenceOptions,
): OperationDefinition & { model: string; codeHash: `0x${string}` } {
  return {
    name: impl.name,
    version: impl.version,
    description: impl.description,
    engine: impl.engine,
    aggregate: impl.aggregate,
    paramsSchema: paramsSchema(impl),
    limits: { ...impl.limits },
    discloses: impl.discloses ?? UNBOUNDED_DISCLOSURE,
    model: impl.model(opts),
    codeHash: codeHashOf(impl, opts),
  };
}

/** Operations offered under these options: builtin always, openai/llama only when configured. */
export function listCatalog(
  opts: InferenceOptions,
): (OperationDefinition & { model: string; codeHash: `0x${string}` })[] {
  return REGISTRY.filter((o) => o.available(opts)).map((o) => definition(o, opts));
}

const ZOD_CODES: Record<string, string> = {
  invalid_type: 'invalid_type',
  too_small: 'too_small',
  too_big: 'too_big',
  unrecognized_keys: 'unknown_field',
  invalid_enum_value: 'invalid_value',
  invalid_string: 'invalid_format',
  not_integer: 'not_integer',
  custom: 'invalid_value',
};

function zodErrors(error: z.ZodError): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      // One error per unknown key, so each names its field.
      for (const key of issue.keys) {
        out.push({
          field: ['parameters', ...issue.path, key].join('.'),
          code: 'unknown_field',
          message: 'unknown parameter',
        });
      }
      continue;
    }
    const missing = issue.code === 'invalid_type' && issue.received === 'undefined';
    out.push({
      field: ['parameters', ...issue.path].join('.'),
      code: missing ? 'required' : (ZOD_CODES[issue.code] ?? 'invalid_value'),
      message: missing ? 'required' : issue.message,
    });
  }
  return out;
}

/** Checks an operation name and its parameters; errors name the field (`operation`, `parameters.sentences`…). */
export function validateOperationRequest(
  opts: InferenceOptions,
  name: unknown,
  params: unknown,
): ValidationResult {
  if (typeof name !== 'string' || name === '') {
    return {
      ok: false,
      errors: [{ field: 'operation', code: 'required', message: 'an operation name is required' }],
    };
  }
  const impl = findOperation(opts, name);
  if (!impl) {
    return {
      ok: false,
      errors: [
        {
          field: 'operation',
          code: 'unknown_operation',
          message: `no operation named "${name}" is available`,
        },
      ],
    };
  }
  const parsed = impl.params.safeParse(params ?? {});
  if (!parsed.success) return { ok: false, errors: zodErrors(parsed.error) };
  return { ok: true, operation: definition(impl, opts), params: parsed.data as Record<string, unknown> };
}
