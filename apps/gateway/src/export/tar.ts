/**
 * A minimal ustar (POSIX.1-1988) writer: regular files only, names of at most 100 ASCII bytes (the export names
 * its entries itself), sizes past 8 GiB in the GNU base-256 form. Every tar reader opens it.
 */
export const TAR_BLOCK = 512;

function writeString(block: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new RangeError(`tar field too long: ${value}`);
  bytes.copy(block, offset);
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  // length - 1 octal digits, then NUL.
  writeString(block, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

function writeSize(block: Buffer, offset: number, size: number): void {
  if (size < 8 ** 11) return writeOctal(block, offset, 12, size);
  // GNU base-256: high bit set, then the size big-endian in the remaining 11 bytes.
  block[offset] = 0x80;
  let v = BigInt(size);
  for (let i = offset + 11; i > offset; i--) {
    block[i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** The 512-byte header of a regular file. */
export function tarHeader(name: string, size: number, mtime: Date): Buffer {
  if (!/^[\x21-\x7e]{1,100}$/.test(name)) throw new RangeError(`tar entry name not allowed: ${name}`);
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad tar entry size ${size}`);
  const block = Buffer.alloc(TAR_BLOCK);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeSize(block, 124, size);
  writeOctal(block, 136, 12, Math.floor(mtime.getTime() / 1000));
  block.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  block[156] = 0x30; // '0': regular file
  writeString(block, 257, 6, 'ustar\0');
  writeString(block, 263, 2, '00');
  writeString(block, 265, 32, 'hearth');
  writeString(block, 297, 32, 'hearth');
  let sum = 0;
  for (const b of block) sum += b;
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

/** Zero bytes that complete an entry of `size` bytes to a whole block. */
export function tarPadding(size: number): Buffer {
  const rest = size % TAR_BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : TAR_BLOCK - rest);
}

/** The end of an archive: two zero blocks. */
export function tarEnd(): Buffer {
  return Buffer.alloc(TAR_BLOCK * 2);
}

/** One whole in-memory entry (header, bytes, padding). */
export function tarEntry(name: string, bytes: Buffer, mtime: Date): Buffer[] {
  return [tarHeader(name, bytes.length, mtime), bytes, tarPadding(bytes.length)];
}

export interface TarEntryRead {
  name: string;
  size: number;
  body: Buffer;
}

/** Reads a whole archive held in memory (tests, and small exports read back). */
export function readTar(archive: Buffer): TarEntryRead[] {
  const out: TarEntryRead[] = [];
  let offset = 0;
  while (offset + TAR_BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + TAR_BLOCK);
    if (header.every((b) => b === 0)) return out;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const sizeField = header.subarray(124, 136);
    let size: number;
    if (sizeField[0] & 0x80) {
      let v = 0n;
      for (let i = 1; i < 12; i++) v = (v << 8n) | BigInt(sizeField[i]);
      size = Number(v);
    } else {
      size = Number.parseInt(sizeField.toString('ascii').replace(/\0.*$/s, '').trim() || '0', 8);
    }
    let sum = 0;
    for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
    const recorded = Number.parseInt(
      header
        .subarray(148, 156)
        .toString('ascii')
        .replace(/[\0 ].*$/s, ''),
      8,
    );
    if (sum !== recorded) throw new Error(`tar header checksum mismatch at ${offset}`);
    offset += TAR_BLOCK;
    if (offset + size > archive.length) throw new Error(`tar entry ${name} is truncated`);
    out.push({ name, size, body: archive.subarray(offset, offset + size) });
    offset += size + tarPadding(size).length;
  }
  throw new Error('tar archive ends without its end-of-archive blocks');
}
