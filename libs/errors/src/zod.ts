import type { ZodError, ZodTypeAny, output } from 'zod';
import { FieldError, ProblemError } from './problem-error';

/** Maps zod issues to field errors; `prefix` names the part of the request (e.g. "query"). */
export function zodFieldErrors(error: ZodError, prefix?: string): FieldError[] {
  return error.issues
    .map((issue) => {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
      const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      return keys.map((key) => ({
        field: [path, key].filter(Boolean).join('.') || '(body)',
        code: issue.code === 'unrecognized_keys' ? 'unknown_field' : issue.code,
        message: issue.message,
      }));
    })
    .flat();
}

/** Parses or throws a 400 problem naming every bad field. */
export function parseOrThrow<S extends ZodTypeAny>(schema: S, value: unknown, prefix?: string): output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw ProblemError.validation(zodFieldErrors(result.error, prefix));
  return result.data as output<S>;
}
