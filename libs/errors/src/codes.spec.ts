import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODE_DOCS, ERROR_TITLES, ErrorCode } from './codes';
import { OPERATION_ERROR_CODE_DOCS, OperationErrorCode } from './operation-codes';
import { ProblemError } from './problem-error';

const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

function assertOneLine(text: string, what: string): void {
  assert.ok(text.trim().length > 0, `${what} is empty`);
  assert.doesNotMatch(text, /[\n|]/, `${what} must be one line without "|" (it goes in a markdown table)`);
}

describe('problem codes', () => {
  it('every ErrorCode has a title and a description, and the map names nothing else', () => {
    const codes = Object.values(ErrorCode);
    assert.deepEqual(Object.keys(ERROR_CODE_DOCS).sort(), [...codes].sort());
    for (const code of codes) {
      assert.match(code, SNAKE);
      assertOneLine(ERROR_CODE_DOCS[code].title, `title of ${code}`);
      assertOneLine(ERROR_CODE_DOCS[code].description, `description of ${code}`);
    }
  });

  it('enum keys are their values', () => {
    for (const [key, value] of Object.entries(ErrorCode)) assert.equal(key, value);
  });

  it('problem documents carry the documented title', () => {
    for (const code of Object.values(ErrorCode)) {
      const problem = new ProblemError(400, code, 'x').toProblem();
      assert.equal(problem.title, ERROR_CODE_DOCS[code].title);
      assert.equal(ERROR_TITLES[code], ERROR_CODE_DOCS[code].title);
    }
  });

  it('keeps the titles problem documents always had', () => {
    assert.equal(new ProblemError(404, ErrorCode.route_not_found, 'x').toProblem().title, 'No such route');
    assert.equal(
      new ProblemError(405, ErrorCode.method_not_allowed, 'x').toProblem().title,
      'Method not allowed',
    );
  });
});

describe('operation error codes', () => {
  it('every OperationErrorCode has a status and a description, and the map names nothing else', () => {
    const codes = Object.values(OperationErrorCode);
    assert.deepEqual(Object.keys(OPERATION_ERROR_CODE_DOCS).sort(), [...codes].sort());
    for (const code of codes) {
      assert.match(code, SNAKE);
      assert.ok(['failed', 'denied', 'cancelled'].includes(OPERATION_ERROR_CODE_DOCS[code].status));
      assertOneLine(OPERATION_ERROR_CODE_DOCS[code].description, `description of ${code}`);
    }
  });

  it('keys are their values', () => {
    for (const [key, value] of Object.entries(OperationErrorCode)) assert.equal(key, value);
  });
});
