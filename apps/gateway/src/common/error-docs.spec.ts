import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODE_DOCS, ErrorCode, OPERATION_ERROR_CODE_DOCS, OperationErrorCode } from '@hearth/errors';
import { addErrorCodeSchemas, apiDescription, errorCodeSchemas } from './error-docs';

/** The table row of a code: `| \`code\` | … |`. */
function rowOf(description: string, code: string): string | undefined {
  return description.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
}

function rowsUnder(description: string, heading: string): string[] {
  const section = description.split(/^### /m).find((s) => s.startsWith(heading)) ?? '';
  return section.split('\n').filter((line) => /^\| `/.test(line));
}

describe('/docs error codes', () => {
  const description = apiDescription();

  it('the description lists every problem code with its title and description', () => {
    const rows = rowsUnder(description, 'Problem codes');
    assert.equal(rows.length, Object.values(ErrorCode).length);
    for (const code of Object.values(ErrorCode)) {
      const row = rows.find((r) => r.startsWith(`| \`${code}\` |`));
      assert.ok(row, `no row for problem code ${code}`);
      assert.ok(row.includes(ERROR_CODE_DOCS[code].title), `title of ${code}`);
      assert.ok(row.includes(ERROR_CODE_DOCS[code].description), `description of ${code}`);
    }
  });

  it('the description lists every operation error code with its status and description', () => {
    const rows = rowsUnder(description, 'Operation error codes');
    assert.equal(rows.length, Object.values(OperationErrorCode).length);
    for (const code of Object.values(OperationErrorCode)) {
      const row = rows.find((r) => r.startsWith(`| \`${code}\` |`));
      assert.ok(row, `no row for operation error code ${code}`);
      assert.ok(row.includes(`\`${OPERATION_ERROR_CODE_DOCS[code].status}\``), `status of ${code}`);
      assert.ok(row.includes(OPERATION_ERROR_CODE_DOCS[code].description), `description of ${code}`);
    }
  });

  it('every table row has as many cells as its header', () => {
    for (const code of [...Object.values(ErrorCode), ...Object.values(OperationErrorCode)]) {
      const row = rowOf(description, code);
      assert.equal(row?.split(' | ').length, 3, `row of ${code}: ${row}`);
    }
  });

  it('the schemas enumerate both sets with one description per value', () => {
    const schemas = errorCodeSchemas();
    assert.deepEqual(schemas.ErrorCode.enum, Object.values(ErrorCode));
    assert.deepEqual(
      schemas.ErrorCode['x-enum-descriptions'],
      Object.values(ErrorCode).map((c) => ERROR_CODE_DOCS[c].description),
    );
    assert.deepEqual(schemas.OperationErrorCode.enum, Object.values(OperationErrorCode));
    assert.equal(
      schemas.OperationErrorCode['x-enum-descriptions'].length,
      Object.values(OperationErrorCode).length,
    );
  });

  it('adds the schemas to a document, keeping its own', () => {
    const document = {
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: {},
      components: { schemas: { Other: { type: 'object' } } },
    };
    addErrorCodeSchemas(document);
    assert.deepEqual(Object.keys(document.components.schemas).sort(), [
      'ErrorCode',
      'OperationErrorCode',
      'Other',
    ]);
  });
});
