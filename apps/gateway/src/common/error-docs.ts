/**
 * The error codes as /docs shows them: a table of each set in the API description (what people read) and an
 * enum schema of each under components (what generators read). Both come from the maps in @hearth/errors.
 */
import type { OpenAPIObject, SchemaObject } from '@nestjs/swagger';
import {
  ERROR_CODE_DOCS,
  ErrorCode,
  OPERATION_ERROR_CODE_DOCS,
  OperationErrorCode,
  WEBHOOK_DELIVERY_CODE_DOCS,
  WebhookDeliveryCode,
} from '@hearth/errors';

type EnumSchema = SchemaObject & { enum: string[]; 'x-enum-descriptions': string[] };

function table(header: string[], rows: string[][]): string {
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** The markdown of every code set, for the API description. */
export function errorCodesMarkdown(): string {
  const problems = Object.values(ErrorCode).map((code) => [
    `\`${code}\``,
    ERROR_CODE_DOCS[code].title,
    ERROR_CODE_DOCS[code].description,
  ]);
  const operations = Object.values(OperationErrorCode).map((code) => [
    `\`${code}\``,
    `\`${OPERATION_ERROR_CODE_DOCS[code].status}\``,
    OPERATION_ERROR_CODE_DOCS[code].description,
  ]);
  const deliveries = Object.values(WebhookDeliveryCode).map((code) => [
    `\`${code}\``,
    WEBHOOK_DELIVERY_CODE_DOCS[code],
  ]);
  return [
    '### Problem codes (`ErrorCode`)',
    'The `code` of an `application/problem+json` error response.',
    table(['Code', 'Title', 'Description'], problems),
    '### Operation error codes (`OperationErrorCode`)',
    'The `error.code` of an operation that ended `failed`, `denied` or `cancelled` (`GET /v1/operations/:id`).',
    table(['Code', 'Status', 'Description'], operations),
    '### Webhook delivery codes (`WebhookDeliveryCode`)',
    "The `errorCode` of a failed attempt in a webhook's delivery log (`GET …/webhooks/:webhookId/deliveries`).",
    table(['Code', 'Description'], deliveries),
  ].join('\n\n');
}

/** The API description at /docs. */
export function apiDescription(): string {
  return [
    'Hosted personal servers for non-custodial data. Errors are RFC 9457 `application/problem+json` ' +
      'documents with a stable `code`; an operation that does not succeed carries `error: {code, detail}`. ' +
      'Codes are stable: new ones may be added, none is ever renamed.',
    errorCodesMarkdown(),
  ].join('\n\n');
}

/** Both code sets as enum schemas, with one description per value. */
export function errorCodeSchemas(): Record<'ErrorCode' | 'OperationErrorCode', EnumSchema> {
  const problemCodes = Object.values(ErrorCode);
  const operationCodes = Object.values(OperationErrorCode);
  return {
    ErrorCode: {
      type: 'string',
      description: 'The `code` of a problem document.',
      enum: problemCodes,
      'x-enum-descriptions': problemCodes.map((c) => ERROR_CODE_DOCS[c].description),
    },
    OperationErrorCode: {
      type: 'string',
      description: 'The `error.code` of an operation that did not succeed.',
      enum: operationCodes,
      'x-enum-descriptions': operationCodes.map((c) => OPERATION_ERROR_CODE_DOCS[c].description),
    },
  };
}

/** Adds the code schemas to a built document's components. */
export function addErrorCodeSchemas(document: OpenAPIObject): void {
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, ...errorCodeSchemas() },
  };
}
