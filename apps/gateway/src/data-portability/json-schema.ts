/**
 * The JSON Schema keywords scope schemas use, checked without a dependency: type, properties, required,
 * additionalProperties (boolean or schema), items, enum, const, minLength/maxLength, minimum/maximum,
 * minItems/maxItems. Any other keyword is ignored (documented in docs/data-portability.md). Returns the first
 * errors found, each with a JSON pointer.
 */
export interface SchemaError {
  path: string;
  message: string;
}

type Schema = Record<string, unknown>;

const MAX_ERRORS = 10;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(expected: string, v: unknown): boolean {
  const actual = typeOf(v);
  return expected === actual || (expected === 'number' && actual === 'integer');
}

export function validateJsonSchema(schema: unknown, value: unknown): SchemaError[] {
  const errors: SchemaError[] = [];
  check(schema, value, '', errors);
  return errors;
}

function check(schema: unknown, v: unknown, path: string, errors: SchemaError[]): void {
  if (errors.length >= MAX_ERRORS || schema === true || schema === undefined) return;
  if (schema === false) {
    errors.push({ path: path || '/', message: 'no value is allowed here' });
    return;
  }
  if (!schema || typeof schema !== 'object') return;
  const s = schema as Schema;
  const at = path || '/';
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => typeMatches(t, v))) {
      errors.push({ path: at, message: `must be ${types.join(' or ')}` });
      return;
    }
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) {
    errors.push({ path: at, message: 'must be one of the allowed values' });
  }
  if (s.const !== undefined && JSON.stringify(s.const) !== JSON.stringify(v)) {
    errors.push({ path: at, message: 'must be the constant value' });
  }
  if (typeof v === 'string') {
    if (typeof s.minLength === 'number' && v.length < s.minLength)
      errors.push({ path: at, message: `shorter than ${s.minLength}` });
    if (typeof s.maxLength === 'number' && v.length > s.maxLength)
      errors.push({ path: at, message: `longer than ${s.maxLength}` });
  }
  if (typeof v === 'number') {
    if (typeof s.minimum === 'number' && v < s.minimum)
      errors.push({ path: at, message: `below ${s.minimum}` });
    if (typeof s.maximum === 'number' && v > s.maximum)
      errors.push({ path: at, message: `above ${s.maximum}` });
  }
  if (Array.isArray(v)) {
    if (typeof s.minItems === 'number' && v.length < s.minItems)
      errors.push({ path: at, message: `fewer than ${s.minItems} items` });
    if (typeof s.maxItems === 'number' && v.length > s.maxItems)
      errors.push({ path: at, message: `more than ${s.maxItems} items` });
    if (s.items !== undefined) v.forEach((item, i) => check(s.items, item, `${path}/${i}`, errors));
  }
  if (typeOf(v) === 'object') {
    const obj = v as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, unknown>;
    for (const key of Array.isArray(s.required) ? (s.required as string[]) : []) {
      if (!(key in obj)) errors.push({ path: `${path}/${key}`, message: 'is required' });
    }
    for (const [key, child] of Object.entries(obj)) {
      if (key in props) check(props[key], child, `${path}/${key}`, errors);
      else if (s.additionalProperties !== undefined)
        check(s.additionalProperties, child, `${path}/${key}`, errors);
    }
  }
}
