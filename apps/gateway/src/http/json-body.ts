import { ErrorCode, ProblemError } from '@hearth/errors';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** Media types read as JSON (what clients send for `application/json` and its `+json` suffixes). */
export function isJsonMediaType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

function decoded(req: IncomingMessage, payload: Readable): Readable {
  const encoding = String(req.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
  switch (encoding) {
    case 'identity':
    case '':
      return payload;
    case 'gzip':
    case 'x-gzip':
      return payload.pipe(createGunzip());
    case 'deflate':
      return payload.pipe(createInflate());
    case 'br':
      return payload.pipe(createBrotliDecompress());
    default:
      throw new ProblemError(415, ErrorCode.unsupported_media_type, 'Unsupported body encoding', [
        { field: 'Content-Encoding', code: 'unsupported', message: 'use gzip, deflate, br or none' },
      ]);
  }
}

const tooLarge = () => new ProblemError(413, ErrorCode.payload_too_large, 'The request body is too large');
const malformed = () => new ProblemError(400, ErrorCode.malformed_json, 'The request body is not valid JSON');

/**
 * Reads a JSON body of at most `limit` bytes (after decoding): `{}` when empty, a 400 `malformed_json` when it
 * does not parse (or does not decompress), a 413 past the limit — never a 500.
 */
export async function readJsonBody(req: IncomingMessage, payload: Readable, limit: number): Promise<unknown> {
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    payload.resume();
    throw tooLarge();
  }
  const source = decoded(req, payload);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        payload.resume(); // drain what the client still sends so it can read the answer
        throw tooLarge();
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof ProblemError) throw err;
    throw malformed(); // a truncated or corrupt compressed body
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformed();
  }
}
