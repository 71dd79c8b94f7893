import { ErrorCode, ProblemError } from '@hearth/errors';
import type { IncomingMessage } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** Media types read as JSON (what clients send for `application/json` and its `+json` suffixes). */
export function isJsonMediaType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/**
 * The zlib stream that undoes the request's `Content-Encoding`, or null when the body is not encoded; a 415
 * `unsupported_content_encoding` for any other encoding (or a chain of them). JSON bodies and uploads share it.
 */
export function contentDecoder(req: IncomingMessage): Transform | null {
  const encoding = String(req.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
  switch (encoding) {
    case 'identity':
    case '':
      return null;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      throw new ProblemError(415, ErrorCode.unsupported_content_encoding, 'Unsupported body encoding', [
        { field: 'Content-Encoding', code: 'unsupported', message: 'use gzip, deflate, br or none' },
      ]);
  }
}

/** Whether an error came from a zlib stream given bytes that are not what its encoding says. */
export function isDecodeError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  // zlib's own codes (Z_DATA_ERROR, Z_BUF_ERROR for a truncated stream), brotli's as Node names them.
  return typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ERR__ERROR'));
}

const tooLarge = () => new ProblemError(413, ErrorCode.payload_too_large, 'The request body is too large');
const malformed = () => new ProblemError(400, ErrorCode.malformed_json, 'The request body is not valid JSON');

/**
 * Deepest nesting a JSON body may have: deeper structures are refused before anything walks them recursively
 * (canonical JSON for hashes, zod), which would overflow the stack on a body nested thousands deep.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The top-level field (`parameters`) under which a value is nested deeper than `max`, `body` when the body itself
 * is, or null. Iterative, so a body nested a million deep costs a loop, not the stack.
 */
export function tooDeepAt(value: unknown, max: number): string | null {
  const stack: Array<{ value: unknown; depth: number; field: string }> = [{ value, depth: 0, field: 'body' }];
  while (stack.length > 0) {
    const { value: v, depth, field } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return field;
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
    for (const [key, child] of entries) {
      if (child !== null && typeof child === 'object')
        stack.push({ value: child, depth: depth + 1, field: depth === 0 ? key : field });
    }
  }
  return null;
}

/** Bodies kept as received for a signature over their bytes (Web3Signed's bodyHash), by request. */
const rawBodies = new WeakMap<IncomingMessage, Buffer>();

/** The bytes a JSON body was parsed from, where readJsonBody was asked to keep them; else undefined. */
export function rawJsonBodyOf(req: IncomingMessage): Buffer | undefined {
  return rawBodies.get(req);
}

/**
 * Reads a JSON body of at most `limit` bytes (after decoding): `{}` when empty, a 400 `malformed_json` when it
 * does not parse (or does not decompress), a 400 naming the field nested past MAX_JSON_DEPTH, a 413 past the
 * limit — never a 500. With `keepRaw` the decoded bytes stay readable through rawJsonBodyOf while the request lives.
 */
export async function readJsonBody(
  req: IncomingMessage,
  payload: Readable,
  limit: number,
  opts: { keepRaw?: boolean } = {},
): Promise<unknown> {
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    payload.resume();
    throw tooLarge();
  }
  const decoder = contentDecoder(req);
  const source = decoder ? payload.pipe(decoder) : payload;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (err) {
    payload.resume(); // drain what the client still sends so it can read the answer
    if (err instanceof ProblemError) throw err;
    throw malformed(); // a truncated or corrupt compressed body
  }
  const bytes = Buffer.concat(chunks);
  if (opts.keepRaw) rawBodies.set(req, bytes);
  const text = bytes.toString('utf8');
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    throw malformed();
  }
  const deep = tooDeepAt(body, MAX_JSON_DEPTH);
  if (deep !== null) {
    throw ProblemError.validation([
      { field: deep, code: 'too_deep', message: `nested deeper than ${MAX_JSON_DEPTH} levels` },
    ]);
  }
  return body;
}
