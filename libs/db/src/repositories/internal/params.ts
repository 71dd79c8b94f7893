/**
 * The positional parameters of a statement whose conditions depend on the call (a page with or without a cursor
 * or a filter): `add(value)` returns the value's `$n`. A condition that is left out is absent from the text
 * rather than written as `($n IS NULL OR …)`, which a generic plan cannot use as an index bound.
 */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
