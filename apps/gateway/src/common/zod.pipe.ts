import { type PipeTransform } from '@nestjs/common';
import { parseOrThrow } from '@hearth/errors';
import type { ZodTypeAny, output } from 'zod';

/** `@Body(new ZodPipe(schema))`: parse or answer 400 naming each bad field. */
export class ZodPipe<S extends ZodTypeAny> implements PipeTransform<unknown, output<S>> {
  constructor(
    private readonly schema: S,
    private readonly prefix?: string,
  ) {}

  transform(value: unknown): output<S> {
    return parseOrThrow(this.schema, value ?? {}, this.prefix);
  }
}
