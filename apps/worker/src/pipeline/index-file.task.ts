import {
  FILE_INDEX_KEY_INFO,
  fileChunkAad,
  fileIndexAad,
  metadataAad,
  packChunks,
  unpackChunks,
} from '@hearth/blobs';
import { decryptChunks, deriveSubkey, encryptChunks, isCryptoError, openValue } from '@hearth/crypto';
import { indexFile, isInferenceError } from '@hearth/inference';
import { defineTask } from '../isolation/task';
import type { JobScope } from '../isolation/job-scope';

/**
 * One file version to index, as the worker hands it over: sealed metadata, ciphertext and this file's keys only
 * (unwrapped by the worker: the sandbox never holds a key manager or a tenant key). Wiped when the job ends.
 */
export interface IndexFileTaskInput {
  serverId: string;
  fileId: string;
  ciphertextSha256: string;
  sealedName: Buffer;
  sealedContentType: Buffer;
  /** The server's metadata key (opens the file's name and type). */
  metadataKey: Buffer;
  /** The file's data key. */
  dataKey: Buffer;
  chunks: Buffer[];
}

export type IndexFileTaskOutput =
  | { outcome: 'indexed'; sealedIndex: Buffer; formatVersion: number; records: number; warnings: number }
  | { outcome: 'failed'; code: string; formatVersion: number };

/** The key a file's index is sealed under: derived from the file's data key, so it shares its policy. */
export function fileIndexKey(dataKey: Uint8Array, fileId: string): Buffer {
  return deriveSubkey(dataKey, fileId, FILE_INDEX_KEY_INFO);
}

/**
 * Runs in the sandbox: decrypt the file with the key the worker handed over, parse it into records and index
 * them, then seal the index under the file's index key. Plaintext and keys are tracked by the job scope and wiped
 * when the job ends; only the sealed index leaves the sandbox.
 */
export const indexFileTask = defineTask<IndexFileTaskInput, IndexFileTaskOutput>(async (input, scope) => {
  try {
    const metadataKey = scope.track(input.metadataKey);
    const dataKey = scope.track(input.dataKey);
    const open = (field: 'file.name' | 'file.contentType', sealed: Buffer) =>
      scope
        .track(openValue(metadataKey, metadataAad(input.serverId, field, input.fileId), sealed))
        .toString('utf8');
    const last = input.chunks.length - 1;
    const plaintext = scope.track(
      decryptChunks(
        dataKey,
        fileChunkAad(input.serverId, input.fileId),
        input.chunks.map((sealed, index) => ({ index, isFinal: index === last, sealed })),
      ),
    );
    const built = await indexFile({
      fileId: input.fileId,
      name: open('file.name', input.sealedName),
      contentType: open('file.contentType', input.sealedContentType),
      bytes: plaintext,
    });
    scope.track(built.bytes);
    const key = scope.track(fileIndexKey(dataKey, input.fileId));
    const sealed = encryptChunks(
      key,
      fileIndexAad(input.serverId, input.fileId, input.ciphertextSha256),
      built.bytes,
    );
    return {
      outcome: 'indexed',
      sealedIndex: packChunks(sealed.map((c) => c.sealed)),
      formatVersion: built.formatVersion,
      records: built.records,
      warnings: built.warnings,
    };
  } catch (err) {
    // Codes only: a failed index is recorded and the file is parsed on the fly by operations.
    if (isInferenceError(err)) return { outcome: 'failed', code: err.code, formatVersion: 0 };
    if (isCryptoError(err)) return { outcome: 'failed', code: err.code, formatVersion: 0 };
    // Anything unexpected is thrown: the job is retried.
    throw err;
  }
});

/** Opens a stored index inside the operation's child (null when it does not open: the file is parsed instead). */
export function openSealedIndex(
  scope: JobScope,
  dataKey: Buffer,
  serverId: string,
  fileId: string,
  ciphertextSha256: string,
  sealedIndex: Buffer,
): Buffer | null {
  const key = scope.track(fileIndexKey(dataKey, fileId));
  const chunks = unpackChunks(sealedIndex);
  const last = chunks.length - 1;
  try {
    return scope.track(
      decryptChunks(
        key,
        fileIndexAad(serverId, fileId, ciphertextSha256),
        chunks.map((sealed, index) => ({ index, isFinal: index === last, sealed })),
      ),
    );
  } catch (err) {
    if (isCryptoError(err)) return null;
    throw err;
  }
}
