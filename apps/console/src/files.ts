import {
  decryptAsOwner,
  deriveOwnerKey,
  HearthProblemError,
  type HearthFile,
  ownerPublicKey,
  type Server,
} from '@hearth/sdk';
import type { WalletClient } from 'viem';
import { owner } from './session';
import { encryptToSpool, type SpooledEnvelope } from './spool';

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

/**
 * Encrypts a file in the browser to the server's key with an owner slot for the owner key (envelope version 2),
 * written out as it is made (spool.ts: the origin private file system, on disk), so neither the page nor the
 * browser holds the file; XMLHttpRequest then sends that file with progress (browsers cannot stream a request
 * body over HTTP/1.1). Release the envelope once the upload ended.
 */
export function encryptFile(
  server: Server,
  ownerKey: Uint8Array,
  file: File,
  onProgress: (p: UploadProgress) => void,
): Promise<SpooledEnvelope> {
  return encryptToSpool(server, file, {
    ownerPublicKey: ownerPublicKey(ownerKey).publicKey,
    onProgress: (bytes) => onProgress({ phase: 'encrypting', fraction: file.size ? bytes / file.size : 1 }),
  });
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
