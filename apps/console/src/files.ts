import {
  decryptAsOwner,
  deriveOwnerKey,
  encryptForServer,
  ENVELOPE_CONTENT_TYPE,
  HearthProblemError,
  type HearthFile,
  ownerPublicKey,
  type Server,
} from '@hearth/sdk';
import type { WalletClient } from 'viem';
import { owner } from './session';

/**
 * Owner keys derived this page load, per server address: one wallet signature the first time a file is
 * encrypted or opened, none after. Memory only; a reload asks the wallet again.
 */
const ownerKeys = new Map<string, Promise<Uint8Array>>();

export function ownerKeyFor(wallet: WalletClient, server: Server): Promise<Uint8Array> {
  const account = wallet.account;
  if (!account) throw new Error('The wallet has no account.');
  const id = `${account.address}:${server.address}`;
  let key = ownerKeys.get(id);
  if (!key) {
    key = deriveOwnerKey((message) => wallet.signMessage({ account, message }), server.address);
    ownerKeys.set(id, key);
    key.catch(() => ownerKeys.delete(id)); // a rejected signature may be retried
  }
  return key;
}

export interface UploadProgress {
  phase: 'encrypting' | 'uploading';
  /** 0…1 */
  fraction: number;
}

/** Envelope frames are gathered into Blobs of about this size: the browser keeps large Blobs on disk. */
const BLOB_BATCH = 4 * 1024 * 1024;

/**
 * Encrypts a file in the browser to the server's key with an owner slot for the owner key (envelope version 2),
 * then uploads it with progress. The envelope is produced chunk by chunk (64 KiB) from `file.stream()` and
 * handed to the browser's Blob store in 4 MiB pieces, so the page's memory holds a few chunks, not the file
 * (browsers cannot stream a request body over HTTP/1.1; the Blob is what XMLHttpRequest sends).
 */
export async function encryptFile(
  server: Server,
  ownerKey: Uint8Array,
  file: File,
  onProgress: (p: UploadProgress) => void,
): Promise<Blob> {
  const blobs: Blob[] = [];
  let batch: Uint8Array[] = [];
  let batched = 0;
  const flush = (): void => {
    if (batch.length) blobs.push(new Blob(batch as BlobPart[]));
    batch = [];
    batched = 0;
  };
  for await (const part of encryptForServer(server, file, {
    ownerPublicKey: ownerPublicKey(ownerKey).publicKey,
    onProgress: (bytes) => onProgress({ phase: 'encrypting', fraction: file.size ? bytes / file.size : 1 }),
  })) {
    batch.push(part);
    batched += part.byteLength;
    if (batched >= BLOB_BATCH) flush();
  }
  flush();
  return new Blob(blobs, { type: ENVELOPE_CONTENT_TYPE });
}

/** POST /v1/servers/:id/files with upload progress (fetch has none). */
export function uploadBody(
  serverId: string,
  name: string,
  body: Blob,
  contentType: string,
  onProgress: (p: UploadProgress) => void,
): Promise<HearthFile> {
  const token = owner().token;
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/v1/servers/${encodeURIComponent(serverId)}/files?name=${encodeURIComponent(name)}`);
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('content-type', contentType);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress({ phase: 'uploading', fraction: e.loaded / e.total });
    };
    xhr.onerror = () => reject(new Error('The upload failed: the connection to Hearth was lost.'));
    xhr.onload = () => {
      let parsed: unknown = undefined;
      try {
        parsed = JSON.parse(xhr.responseText) as unknown;
      } catch {
        parsed = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(parsed as HearthFile);
      else reject(HearthProblemError.fromBody(xhr.status, parsed));
    };
    xhr.send(body);
  });
}

/** A client-side file opened in the browser with the owner key: the gateway only ever sends the envelope. */
export async function openClientFile(
  serverId: string,
  file: HearthFile,
  ownerKey: Uint8Array,
): Promise<Blob> {
  const res = await owner().download(serverId, file.id);
  if (!res.body) throw new Error('The download was empty.');
  const parts: Uint8Array[] = [];
  for await (const part of decryptAsOwner(ownerKey, res.body)) parts.push(part);
  return new Blob(parts as BlobPart[]);
}

/** A server-side file: the gateway decrypts it for its owner. */
export async function downloadServerFile(serverId: string, file: HearthFile): Promise<Blob> {
  const res = await owner().download(serverId, file.id);
  return res.blob();
}

/** Starts a download of a Blob under a file name (an object URL, revoked after the click). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
