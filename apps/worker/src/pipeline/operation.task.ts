import { fileChunkAad, metadataAad, packChunks, resultAad } from '@hearth/blobs';
import {
  CRYPTO_OPERATION_ERRORS,
  decryptChunks,
  decryptEnvelopeWithKey,
  encryptChunks,
  isCryptoError,
  openValue,
} from '@hearth/crypto';
import {
  isInferenceError,
  openFileIndex,
  privatize,
  runOperation,
  warmupEngines,
  type FileIndex,
  type InputDocument,
} from '@hearth/inference';
import { canonicalJson, outputHash, parametersHash } from '@hearth/receipts';
import { defineTask } from '../isolation/task';
import type { JobScope } from '../isolation/job-scope';
import { openSealedIndex } from './index-file.task';
import type { ChildTimings, SandboxFile, SandboxTaskInput, SandboxTaskOutput } from './operation-task.types';

function since(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}

/**
 * Runs inside the sandbox, after the broker checked the permission and unwrapped this job's keys: 1. decrypt
 * the granted files and the parameters, 2. run the operation, 3. seal the result under the key the broker
 * made for it. The receipt is signed by the broker. Every key and plaintext buffer is tracked by the job scope
 * and zeroed when the job ends (the input's keys included).
 */
export const operationTask = defineTask<SandboxTaskInput, SandboxTaskOutput>(async (input, scope) => {
  const timings: Partial<ChildTimings> = {};
  try {
    let start = performance.now();
    const { docs, inputBytes, parameters } = decryptFiles(input, scope);
    timings.decrypt = since(start);
    start = performance.now();
    const indexes = openIndexes(input, scope);
    const exact = await runOperation(input.inference, input.operation, parameters, docs, {
      k: input.k,
      indexes,
    });
    timings.engine = since(start);
    // Differential privacy: noise goes on before anything leaves the sandbox, and the receipt states the ε spent.
    const noised = input.privacy ? privatize(exact.output, input.privacy.epsilon) : null;
    const output = noised ? noised.output : exact.output;
    start = performance.now();
    const outputJson = scope.track(Buffer.from(canonicalJson(output), 'utf8'));
    const sealed = encryptChunks(input.resultKey, resultAad(input.serverId, input.operationId), outputJson);
    timings.seal = since(start);
    return {
      outcome: 'succeeded',
      resultCiphertext: packChunks(sealed.map((c) => c.sealed)),
      operationVersion: exact.operationVersion,
      codeHash: exact.codeHash,
      engine: exact.engine,
      model: exact.model,
      parametersHash: parametersHash(parameters),
      outputHash: outputHash(output),
      inputBytes,
      privacyEpsilon: noised ? String(noised.epsilon) : '0',
      quotedChars: String(exact.quotedChars),
      timings: timings as Pick<ChildTimings, 'decrypt' | 'engine' | 'seal'>,
    };
  } catch (err) {
    return expectedFailure(err, timings);
  }
});

/** What a known failure (decryption, engine) ends as; anything else is thrown on (task_error). */
function expectedFailure(err: unknown, timings: Partial<ChildTimings>): SandboxTaskOutput {
  if (isCryptoError(err)) {
    const detail = `a file failed to decrypt (${err.code})`;
    return { outcome: 'failed', code: CRYPTO_OPERATION_ERRORS[err.code], detail, timings };
  }
  if (isInferenceError(err)) {
    // Too few distinct contributors is a refusal to release, not a failure.
    const outcome = err.code === 'below_k_threshold' ? 'denied' : 'failed';
    return { outcome, code: err.code, detail: err.message, timings };
  }
  throw err;
}

/** The granted files' plaintext, as the engines take it, and the operation's parameters. */
function decryptFiles(
  input: SandboxTaskInput,
  scope: JobScope,
): { docs: InputDocument[]; inputBytes: number; parameters: Record<string, unknown> } {
  const open = (field: Parameters<typeof metadataAad>[1], rowId: string, sealed: Buffer) =>
    scope
      .track(openValue(input.metadataKey, metadataAad(input.serverId, field, rowId), sealed))
      .toString('utf8');
  const parameters = JSON.parse(
    open('operation.parameters', input.operationId, input.sealedParameters),
  ) as Record<string, unknown>;
  let inputBytes = 0;
  const docs: InputDocument[] = input.files.map((file) => {
    const plaintext = scope.track(decryptFile(input.serverId, file, scope));
    inputBytes += plaintext.length;
    // An envelope's stored type is the envelope's; what it holds is taken as UTF-8 text (the engines refuse
    // anything that does not decode).
    const contentType =
      file.encryption === 'client'
        ? 'text/plain; charset=utf-8'
        : open('file.contentType', file.fileId, file.sealedContentType);
    return {
      fileId: file.fileId,
      name: open('file.name', file.fileId, file.sealedName),
      contentType,
      bytes: plaintext,
      contributor: file.contributor,
    };
  });
  return { docs, inputBytes, parameters };
}

/** The files' stored record indexes that open with their index keys (the rest are parsed by the engine). */
function openIndexes(input: SandboxTaskInput, scope: JobScope): Map<string, FileIndex> {
  const out = new Map<string, FileIndex>();
  for (const file of input.files) {
    if (!file.sealedIndex || !file.dataKey || file.encryption !== 'server') continue;
    const bytes = openSealedIndex(
      scope,
      file.dataKey,
      input.serverId,
      file.fileId,
      file.ciphertextSha256,
      file.sealedIndex,
    );
    const index = bytes ? openFileIndex(bytes) : null;
    if (index) out.set(file.fileId, index);
  }
  return out;
}

function decryptFile(serverId: string, file: SandboxFile, scope: JobScope): Buffer {
  if (file.encryption === 'client' && !file.dataKey) {
    if (!file.envelopeKey) throw new Error('missing envelope key');
    return decryptEnvelopeWithKey(file.envelopeKey, Buffer.concat(file.chunks));
  }
  if (!file.dataKey) throw new Error('missing data key');
  const last = file.chunks.length - 1;
  const opened = decryptChunks(
    file.dataKey,
    fileChunkAad(serverId, file.fileId),
    file.chunks.map((sealed, index) => ({ index, isFinal: index === last, sealed })),
  );
  if (file.encryption !== 'client') return opened;
  // The member-key layer held the envelope; the envelope itself opens with its own key.
  if (!file.envelopeKey) throw new Error('missing envelope key');
  return decryptEnvelopeWithKey(file.envelopeKey, scope.track(opened));
}

/**
 * Loaded once per pooled sandbox before it takes jobs: the NLP model and engines. None of it is tenant data.
 * A per-job sandbox skips it and loads what its one operation needs on demand.
 */
export async function warmupOperationTask(): Promise<void> {
  await warmupEngines();
}
