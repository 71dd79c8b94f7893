/** What an upload or `encryptForServer` takes: bytes, a Blob/File, a web stream, or any async iterable of bytes (a Node Readable is one). */
export type ByteSource =
  Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | string;

function isBlob(v: unknown): v is Blob {
  return typeof Blob !== 'undefined' && v instanceof Blob;
}

/** The source's size in bytes when known without reading it. */
export function knownSize(source: ByteSource): number | undefined {
  if (typeof source === 'string') return new TextEncoder().encode(source).length;
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return source.byteLength;
  if (isBlob(source)) return source.size;
  return undefined;
}

/**
 * The source itself when it is already an async iterable (one async hop less per piece on hot paths; pieces
 * may be strings, e.g. a Readable with an encoding), else `iterateBytes`.
 */
export function byteIterable(source: ByteSource): AsyncIterable<Uint8Array | string> {
  if (
    typeof source !== 'string' &&
    !(source instanceof Uint8Array) &&
    typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function' &&
    !(typeof Blob !== 'undefined' && source instanceof Blob)
  ) {
    return source as AsyncIterable<Uint8Array>;
  }
  return iterateBytes(source);
}

/** Any source as an async iterable of Uint8Array pieces (strings as UTF-8). */
export async function* iterateBytes(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (typeof source === 'string') {
    yield new TextEncoder().encode(source);
  } else if (source instanceof Uint8Array) {
    yield source;
  } else if (source instanceof ArrayBuffer) {
    yield new Uint8Array(source);
  } else if (isBlob(source)) {
    yield* iterateBytes(source.stream());
  } else if (typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    for await (const piece of source as AsyncIterable<Uint8Array | string>) {
      yield typeof piece === 'string' ? new TextEncoder().encode(piece) : piece;
    }
  } else {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new TypeError('not a hex string');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/**
 * The same view, typed as WebCrypto's BufferSource wants it under the DOM types (an ArrayBuffer-backed view);
 * our views never sit on a SharedArrayBuffer.
 */
export function asBufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}
