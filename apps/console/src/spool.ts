import { encryptForServer, ENVELOPE_CONTENT_TYPE, type Server } from '@hearth/sdk';

/** An envelope written out as it was made, and what the upload sends. */
export interface SpooledEnvelope {
  body: Blob;
  /** Frees what holds it (the spool file); call once the upload ended, however it ended. */
  release(): Promise<void>;
}

interface Spool {
  write(part: Uint8Array): Promise<void>;
  finish(): Promise<SpooledEnvelope>;
  abort(): Promise<void>;
}

/** Frames are written out in pieces of about this size. */
const SPOOL_BATCH = 4 * 1024 * 1024;
const SPOOL_PREFIX = 'hearth-upload-';
/** A spool file untouched this long belongs to no upload still running. */
const STALE_SPOOL_MS = 6 * 60 * 60 * 1000;
/** Spool files of this page's uploads still running: a later upload leaves them alone. */
const spooling = new Set<string>();

/**
 * A file in the origin private file system (on disk): the envelope leaves the page's memory as it is made and is
 * not held by the browser's Blob store either (which keeps Blobs in memory up to a large share of RAM), so a
 * 1 GiB file needs neither 1 GiB of page nor of browser memory. Where that file system is missing (an old browser,
 * a private window that refuses it) the pieces become Blobs, as before.
 */
async function openSpool(): Promise<Spool> {
  let dir: FileSystemDirectoryHandle;
  try {
    dir = await navigator.storage.getDirectory();
  } catch {
    return blobSpool();
  }
  // Files left by a page that closed mid-upload; another tab's upload may be using a recent one.
  for await (const name of dir.keys()) {
    if (!name.startsWith(SPOOL_PREFIX) || spooling.has(name)) continue;
    const left = await dir
      .getFileHandle(name)
      .then((h) => h.getFile())
      .catch(() => null);
    if (left && Date.now() - left.lastModified > STALE_SPOOL_MS)
      await dir.removeEntry(name).catch(() => undefined);
  }
  const name = `${SPOOL_PREFIX}${crypto.randomUUID()}`;
  let writable: FileSystemWritableFileStream;
  let handle: FileSystemFileHandle;
  try {
    handle = await dir.getFileHandle(name, { create: true });
    writable = await handle.createWritable();
  } catch {
    await dir.removeEntry(name).catch(() => undefined);
    return blobSpool();
  }
  spooling.add(name);
  const release = async (): Promise<void> => {
    spooling.delete(name);
    await dir.removeEntry(name).catch(() => undefined);
  };
  return {
    write: (part) => writable.write(part as Uint8Array<ArrayBuffer>),
    finish: async () => {
      await writable.close();
      const file = await handle.getFile();
      return { body: file.slice(0, file.size, ENVELOPE_CONTENT_TYPE), release };
    },
    abort: async () => {
      await writable.abort().catch(() => undefined);
      await release();
    },
  };
}

function blobSpool(): Spool {
  const blobs: Blob[] = [];
  return {
    write: (part) => {
      blobs.push(new Blob([part as Uint8Array<ArrayBuffer>]));
      return Promise.resolve();
    },
    finish: () =>
      Promise.resolve({
        body: new Blob(blobs, { type: ENVELOPE_CONTENT_TYPE }),
        release: () => Promise.resolve(),
      }),
    abort: () => Promise.resolve(),
  };
}

/**
 * Encrypts `file` to the server's key with an owner slot (envelope version 2), chunk by chunk (64 KiB) from
 * `file.stream()`, writing the envelope out in 4 MiB pieces: the page holds a few chunks, never the file.
 */
export async function encryptToSpool(
  server: Pick<Server, 'publicKey'>,
  file: Blob,
  opts: { ownerPublicKey: string; onProgress?: (bytes: number) => void },
): Promise<SpooledEnvelope> {
  const spool = await openSpool();
  try {
    let batch: Uint8Array[] = [];
    let batched = 0;
    for await (const part of encryptForServer(server, file, opts)) {
      batch.push(part);
      batched += part.byteLength;
      if (batched >= SPOOL_BATCH) {
        await spool.write(concat(batch, batched));
        batch = [];
        batched = 0;
      }
    }
    if (batch.length) await spool.write(concat(batch, batched));
    return await spool.finish();
  } catch (err) {
    await spool.abort();
    throw err;
  }
}

/** One buffer of the pieces: one write each 4 MiB, whatever the frames' sizes. */
function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
