import type { ZodTypeAny } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';

// why: zodToJsonSchema's generic signature makes tsc recurse too deep on schemas with transforms.
const toJsonSchema = zodToJsonSchema as unknown as (
  schema: ZodTypeAny,
  options: { target: 'openApi3'; $refStrategy: 'none' },
) => Record<string, unknown>;

/** A zod DTO as an OpenAPI 3 schema object, for `@ApiBody({ schema: openApiSchema(dto) })`. */
export function openApiSchema(schema: ZodTypeAny): Record<string, unknown> {
  const json = toJsonSchema(schema, { target: 'openApi3', $refStrategy: 'none' });
  delete json.$schema;
  return json;
}
