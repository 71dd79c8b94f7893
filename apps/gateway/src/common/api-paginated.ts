import { applyDecorators } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';

/** Documents the `?limit=&cursor=` every list takes (see libs/db pagination). */
export const ApiPaginated = (): MethodDecorator =>
  applyDecorators(
    ApiQuery({
      name: 'limit',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    }),
    ApiQuery({ name: 'cursor', required: false, schema: { type: 'string' } }),
  );
