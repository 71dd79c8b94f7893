import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { ErrorCode, ProblemError } from '@hearth/errors';
import { MAX_JSON_DEPTH, readJsonBody, tooDeepAt } from './json-body';

const LIMIT = 1024 * 1024;

function read(body: Buffer, headers: Record<string, string> = {}): Promise<unknown> {
  const req = { headers } as unknown as IncomingMessage;
  return readJsonBody(req, Readable.from([body]), LIMIT);
}

const problem = (status: number, code: ErrorCode, field?: string) => (err: unknown) =>
  err instanceof ProblemError &&
  err.status === status &&
  err.code === code &&
  (field === undefined || (err.errors ?? []).some((e) => e.field === field));

describe('readJsonBody', () => {
  const json = Buffer.from('{"a":[1,{"b":2}]}');

  it('decodes gzip, deflate and br', async () => {
    for (const [encoding, body] of [
      ['gzip', gzipSync(json)],
      ['deflate', deflateSync(json)],
      ['br', brotliCompressSync(json)],
    ] as const) {
      assert.deepEqual(await read(body, { 'content-encoding': encoding }), { a: [1, { b: 2 }] });
    }
  });

  it('a body that does not decode is a 400 malformed_json; an unknown encoding a 415 naming Content-Encoding', async () => {
    for (const encoding of ['gzip', 'deflate', 'br'])
      await assert.rejects(
        read(json, { 'content-encoding': encoding }),
        problem(400, ErrorCode.malformed_json),
      );
    await assert.rejects(
      read(gzipSync(json).subarray(0, 10), { 'content-encoding': 'gzip' }),
      problem(400, ErrorCode.malformed_json),
    );
    await assert.rejects(
      read(json, { 'content-encoding': 'compress' }),
      problem(415, ErrorCode.unsupported_content_encoding, 'Content-Encoding'),
    );
  });

  it('a compressed body past the limit once decoded is a 413', async () => {
    const bomb = gzipSync(Buffer.from(`{"a":"${'x'.repeat(2 * LIMIT)}"}`));
    assert.ok(bomb.length < LIMIT / 100);
    await assert.rejects(
      read(bomb, { 'content-encoding': 'gzip' }),
      problem(413, ErrorCode.payload_too_large),
    );
  });

  it(`a body nested past ${MAX_JSON_DEPTH} levels is a 400 naming its top-level field`, async () => {
    const deep = `{"ok":1,"parameters":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`;
    await assert.rejects(read(Buffer.from(deep)), problem(400, ErrorCode.validation_failed, 'parameters'));
    const array = '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1);
    await assert.rejects(read(Buffer.from(array)), problem(400, ErrorCode.validation_failed, '0'));
    const fits = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    assert.ok(Array.isArray(await read(Buffer.from(fits))));
  });
});

describe('tooDeepAt', () => {
  it('names the top-level field under which the nesting is too deep, or null', () => {
    assert.equal(tooDeepAt({ a: { b: { c: 1 } } }, 3), null);
    assert.equal(tooDeepAt({ x: 1, a: { b: { c: {} } } }, 3), 'a');
    assert.equal(tooDeepAt([[[[]]]], 3), '0');
    assert.equal(tooDeepAt({}, 0), 'body');
    assert.equal(tooDeepAt('text', 0), null);
  });
});
