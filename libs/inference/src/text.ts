import { InferenceError } from './errors';
import type { InputDocument, OperationLimits } from './types';

/** A document after decoding: what every engine works on. */
export interface TextDocument {
  fileId: string;
  name: string;
  contentType: string;
  contributor?: string;
  text: string;
  bytes: number;
  /** Why the text may not be what was uploaded (invalid UTF-8 replaced, an unknown charset): per file, no data. */
  warnings?: string[];
}

const TEXTUAL_APPLICATION_TYPES = new Set([
  'application/json',
  'application/x-ndjson',
  'application/ndjson',
  'application/xml',
  'application/yaml',
  'application/x-yaml',
  'application/csv',
  'application/markdown',
  'message/rfc822',
  'application/mbox',
]);

/** Media types we read as UTF-8 text; binary formats (PDF, images, envelopes) are refused. */
export function isTextContentType(contentType: string): boolean {
  const [essence = '', ...parameters] = contentType
    .toLowerCase()
    .split(';')
    .map((s) => s.trim());
  const charset = parameters
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (charset !== undefined && !['utf-8', 'utf8', 'us-ascii'].includes(charset)) return false;
  return (
    essence.startsWith('text/') ||
    TEXTUAL_APPLICATION_TYPES.has(essence) ||
    essence.endsWith('+json') ||
    essence.endsWith('+xml')
  );
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Single-byte charsets a lenient operation decodes as they say; anything else is read as UTF-8. */
const LENIENT_CHARSETS = new Set(['iso-8859-1', 'latin1', 'windows-1252', 'cp1252', 'iso-8859-15']);

function charsetOf(contentType: string): string | undefined {
  return /;\s*charset="?([^";\s]+)/i.exec(contentType)?.[1]?.toLowerCase();
}

/** Decodes for operations that take any text: invalid UTF-8 becomes U+FFFD and the file carries a warning. */
function decodeLeniently(bytes: Uint8Array, contentType: string, warnings: string[]): string {
  const charset = charsetOf(contentType);
  if (charset && LENIENT_CHARSETS.has(charset)) return new TextDecoder(charset).decode(bytes);
  try {
    return decoder.decode(bytes);
  } catch {
    warnings.push('the file is not valid UTF-8; undecodable bytes were replaced');
    return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  }
}

/** Whether a content type is text once charsets are set aside (for lenient operations). */
function isTextEssence(contentType: string): boolean {
  const essence = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return isTextContentType(essence);
}
const encoder = new TextEncoder();

export function utf8Length(s: string): number {
  // Buffer.byteLength is faster than encoding, and exact for well-formed strings.
  return Buffer.byteLength(s, 'utf8');
}

/** Decodes and checks the documents of one run against an operation's limits. */
export function prepareDocuments(
  docs: readonly InputDocument[],
  limits: OperationLimits,
  lenient = false,
): TextDocument[] {
  if (docs.length === 0) throw new InferenceError('no_input', 'the operation needs at least one document');
  if (docs.length > limits.maxDocuments) {
    throw new InferenceError(
      'input_too_large',
      `${docs.length} documents exceed this operation's limit of ${limits.maxDocuments}`,
    );
  }
  let total = 0;
  const out: TextDocument[] = [];
  for (const doc of docs) {
    if (!(lenient ? isTextEssence(doc.contentType) : isTextContentType(doc.contentType))) {
      throw new InferenceError(
        'unsupported_content_type',
        `file ${doc.fileId} has content type "${doc.contentType}"; only UTF-8 text can be analysed`,
      );
    }
    let text: string;
    let bytes: number;
    const warnings: string[] = [];
    if (doc.bytes !== undefined) {
      bytes = doc.bytes.byteLength;
      // Checked before decoding so an oversized file costs nothing.
      if (total + bytes > limits.maxInputBytes) throw tooLarge(limits);
      if (lenient) text = decodeLeniently(doc.bytes, doc.contentType, warnings);
      else
        try {
          text = decoder.decode(doc.bytes);
        } catch (e) {
          throw new InferenceError('invalid_encoding', `file ${doc.fileId} is not valid UTF-8`, undefined, {
            cause: e,
          });
        }
    } else {
      text = doc.text.charCodeAt(0) === 0xfeff ? doc.text.slice(1) : doc.text;
      bytes = utf8Length(text);
    }
    total += bytes;
    if (total > limits.maxInputBytes) throw tooLarge(limits);
    const prepared: TextDocument = {
      fileId: doc.fileId,
      name: doc.name,
      contentType: doc.contentType,
      text,
      bytes,
    };
    if (doc.contributor !== undefined) prepared.contributor = doc.contributor;
    if (warnings.length > 0) prepared.warnings = warnings;
    out.push(prepared);
  }
  return out;
}

function tooLarge(limits: OperationLimits): InferenceError {
  return new InferenceError(
    'input_too_large',
    `the input exceeds this operation's limit of ${limits.maxInputBytes} bytes`,
  );
}

export function checkOutputSize(output: unknown, limits: OperationLimits): void {
  const size = encoder.encode(JSON.stringify(output) ?? '').byteLength;
  if (size > limits.maxOutputBytes) {
    throw new InferenceError(
      'output_too_large',
      `the output (${size} bytes) exceeds this operation's limit of ${limits.maxOutputBytes} bytes`,
    );
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InferenceError('aborted', 'the operation was cancelled');
}

/**
 * Splits text into blocks of at most `max` characters at paragraph, then line, sentence and word
 * boundaries, so wink never holds one huge document in memory and LLM chunks end where text does.
 */
export function splitBlocks(text: string, max: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const window = rest.slice(0, max);
    let cut = window.lastIndexOf('\n\n');
    if (cut < max / 4) cut = window.lastIndexOf('\n');
    if (cut < max / 4) cut = window.lastIndexOf('. ') + 1;
    if (cut < max / 4) cut = window.lastIndexOf(' ');
    if (cut < max / 4) {
      cut = max;
      // Never split a surrogate pair.
      const c = rest.charCodeAt(cut - 1);
      if (c >= 0xd800 && c <= 0xdbff) cut--;
    }
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest.trim().length > 0) out.push(rest);
  return out;
}
