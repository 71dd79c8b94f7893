import {
  fileChunkAad,
  identityKeyContext,
  metadataAad,
  metadataKeyContext,
  packChunks,
  resultAad,
  unpackChunks,
  resultKeyContext,
} from '@hearth/blobs';
import {
  CRYPTO_OPERATION_ERRORS,
  decryptChunks,
  decryptEnvelope,
  encryptChunks,
  isCryptoError,
  openValue,
} from '@hearth/crypto';
import { OperationErrorCode } from '@hearth/errors';
import {
  isInferenceError,
  openFileIndex,
  privatize,
  runOperation,
  warmupEngines,
  type FileIndex,
  type InputDocument,
  type RunResult,
} from '@hearth/inference';
import {
  createKeyManager,
  fileKeyContext,
  isKeyManagerError,
  KEY_MANAGER_OPERATION_ERRORS,
  type KeyManager,
  type KeyManagerOptions,
} from '@hearth/kms';
import { createHash } from 'node:crypto';
import { type PermissionDecision, PermissionChecker, rpcFetch } from '@hearth/permissions';
import {
  canonicalJson,
  inputsHash,
  outputHash,
  parametersHash,
  receiptHash,
  receiptTypedData,
  type SignedReceipt,
} from '@hearth/receipts';
import { getAddress, type Hex } from 'viem';
import { privateKeyToAccount, privateKeyToAddress, sign } from 'viem/accounts';
import { defineTask } from '../isolation/task';
import type { JobScope } from '../isolation/job-scope';
import { openSealedIndex } from './index-file.task';
import type { ChildTimings, OperationTaskInput, OperationTaskOutput, TaskFile } from './operation-task.types';

function since(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}

/**
 * Runs inside the isolated child: 1. permission check on-chain, 2. unwrap keys, 3. decrypt the granted files,
 * 4. run the operation, 5. seal the result and sign the receipt. Every key and plaintext buffer is tracked by
 * the job scope and zeroed when the job ends.
 */
export const operationTask = defineTask<OperationTaskInput, OperationTaskOutput>(async (input, scope) => {
  const timings: Partial<ChildTimings> = {};
  // 1. Permission, at execution time, right before any decryption. Fails closed.
  const decision = await timed(timings, 'chain', () => checkPermission(input));
  if (!decision.allowed) {
    const blockNumber = decision.blockNumber?.toString(10) ?? null;
    const detail = `permission denied: ${decision.code}`;
    return { outcome: 'denied', code: decision.code, detail, blockNumber, timings };
  }
  const blockNumber = decision.blockNumber.toString(10);
  try {
    const keys = await timed(timings, 'kms', () => unwrapKeys(input, scope));
    const { docs, inputBytes, parameters } = await timed(timings, 'decrypt', () =>
      decryptFiles(input, keys, scope),
    );
    const indexes = openIndexes(input, keys, scope);
    const exact = await timed(timings, 'engine', () =>
      runOperation(input.inference, input.operation, parameters, docs, { k: input.k, indexes }),
    );
    // Differential privacy: noise goes on before anything leaves the child, and the receipt states the ε spent.
    const noised = input.privacy ? privatize(exact.output, input.privacy.epsilon) : null;
    const run = noised ? { ...exact, output: noised.output } : exact;
    const epsilon = noised ? String(noised.epsilon) : '0';
    // 5. One step in the timings: sealing and signing.
    const sealStart = performance.now();
    const result = await sealResult(keys.kms, input, run.output, scope);
    const signed = await signReceipt(input, keys.identityKey, run, blockNumber, parameters, epsilon);
    if (!signed) {
      return failed(
        blockNumber,
        timings,
        OperationErrorCode.identity_mismatch,
        'the server identity key does not match its address',
      );
    }
    timings.seal = since(sealStart);
    return {
      outcome: 'succeeded',
      blockNumber,
      resultCiphertext: result.ciphertext,
      resultWrappedKey: result.wrappedKey,
      receipt: signed.receipt,
      receiptHash: signed.digest,
      inputBytes,
      privacyEpsilon: epsilon,
      timings: timings as ChildTimings,
    };
  } catch (err) {
    return expectedFailure(err, blockNumber, timings);
  }
});

/** Runs one step and records its milliseconds; a step that throws records none. */
async function timed<T>(
  timings: Partial<ChildTimings>,
  step: keyof ChildTimings,
  fn: () => T | Promise<T>,
): Promise<T> {
  const start = performance.now();
  const value = await fn();
  timings[step] = since(start);
  return value;
}

function failed(
  blockNumber: string,
  timings: Partial<ChildTimings>,
  code: OperationErrorCode,
  detail: string,
): OperationTaskOutput {
  return { outcome: 'failed', code, detail, blockNumber, timings };
}

/** What a known failure (decryption, key manager, engine) ends as; anything else is thrown on (task_error). */
function expectedFailure(
  err: unknown,
  blockNumber: string,
  timings: Partial<ChildTimings>,
): OperationTaskOutput {
  if (isCryptoError(err))
    return failed(
      blockNumber,
      timings,
      CRYPTO_OPERATION_ERRORS[err.code],
      `a file failed to decrypt (${err.code})`,
    );
  if (isKeyManagerError(err))
    return failed(blockNumber, timings, KEY_MANAGER_OPERATION_ERRORS[err.code], `key manager: ${err.code}`);
  if (isInferenceError(err)) {
    // Too few distinct contributors is a refusal to release, not a failure.
    if (err.code === 'below_k_threshold')
      return { outcome: 'denied', code: err.code, detail: err.message, blockNumber, timings };
    return failed(blockNumber, timings, err.code, err.message);
  }
  throw err;
}

/** 1. The grant (or the server's own contract) allows this app, operation and files at the chain's head. */
function checkPermission(input: OperationTaskInput): Promise<PermissionDecision> {
  return checkerFor(input.chain).check({
    serverId: input.serverId,
    ownerAddress: input.ownerAddress,
    policy: input.policy,
    grantId: input.grantId ?? undefined,
    grantee: input.appAddress,
    operation: input.operation,
    fileIds: input.permission.fileIds,
    requireAllFiles: input.permission.requireAllFiles,
  });
}

interface UnwrappedKeys {
  kms: KeyManager;
  identityKey: Buffer;
  /** Opens the parameters, file names and content types. */
  metadataKey: Buffer;
  /** Per file, in input order; null for a client-encrypted file (its envelope opens with the identity key). */
  dataKeys: (Buffer | null)[];
}

/** 2. The server's identity key and the files' data keys, from the key manager. */
async function unwrapKeys(input: OperationTaskInput, scope: JobScope): Promise<UnwrappedKeys> {
  const kms = keyManagerFor(input.kms);
  const identityKey = scope.track(
    await kms.decrypt(input.kmsKeyRef, input.wrappedIdentityKey, identityKeyContext(input.serverId)),
  );
  const metadataKey = scope.track(
    await kms.unwrapDataKey(input.kmsKeyRef, input.wrappedMetadataKey, metadataKeyContext(input.serverId)),
  );
  const dataKeys = await Promise.all(input.files.map((f) => unwrapFileKey(kms, input, f, scope)));
  return { kms, identityKey, metadataKey, dataKeys };
}

/** 3. The granted files' plaintext, as the engines take it, and the operation's parameters. */
function decryptFiles(
  input: OperationTaskInput,
  keys: UnwrappedKeys,
  scope: JobScope,
): { docs: InputDocument[]; inputBytes: number; parameters: Record<string, unknown> } {
  const open = (field: Parameters<typeof metadataAad>[1], rowId: string, sealed: Buffer) =>
    scope
      .track(openValue(keys.metadataKey, metadataAad(input.serverId, field, rowId), sealed))
      .toString('utf8');
  const parameters = JSON.parse(
    open('operation.parameters', input.operationId, input.sealedParameters),
  ) as Record<string, unknown>;
  let inputBytes = 0;
  const docs: InputDocument[] = input.files.map((file, i) => {
    const plaintext = scope.track(
      decryptFile(input.serverId, file, keys.dataKeys[i], keys.identityKey, scope),
    );
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

/** 3b. The files' stored record indexes that open with their index keys (the rest are parsed by the engine). */
function openIndexes(
  input: OperationTaskInput,
  keys: UnwrappedKeys,
  scope: JobScope,
): Map<string, FileIndex> {
  const out = new Map<string, FileIndex>();
  input.files.forEach((file, i) => {
    const dataKey = keys.dataKeys[i];
    if (!file.sealedIndex || !dataKey || file.encryption !== 'server') return;
    const bytes = openSealedIndex(
      scope,
      dataKey,
      input.serverId,
      file.fileId,
      file.ciphertextSha256,
      file.sealedIndex,
      unpackChunks,
    );
    const index = bytes ? openFileIndex(bytes) : null;
    if (index) out.set(file.fileId, index);
  });
  return out;
}

/** 5a. The result sealed under a fresh data key of the tenant (purpose "result"). */
async function sealResult(
  kms: KeyManager,
  input: OperationTaskInput,
  output: unknown,
  scope: JobScope,
): Promise<{ ciphertext: Buffer; wrappedKey: Buffer }> {
  const resultKey = await kms.generateDataKey(
    input.kmsKeyRef,
    resultKeyContext(input.serverId, input.operationId),
  );
  scope.track(resultKey.plaintext);
  const outputJson = scope.track(Buffer.from(canonicalJson(output), 'utf8'));
  const sealed = encryptChunks(resultKey.plaintext, resultAad(input.serverId, input.operationId), outputJson);
  return { ciphertext: packChunks(sealed.map((c) => c.sealed)), wrappedKey: resultKey.wrapped };
}

/** 5b. The EIP-712 receipt signed with the server's identity; null when that key is not the server's. */
async function signReceipt(
  input: OperationTaskInput,
  identityKey: Buffer,
  run: RunResult,
  blockNumber: string,
  parameters: Record<string, unknown>,
  privacyEpsilon: string,
): Promise<{ receipt: SignedReceipt; digest: Hex } | null> {
  const privateKey: Hex = `0x${identityKey.toString('hex')}`;
  if (!identityMatches(input.wrappedIdentityKey, privateKey, input.serverAddress)) return null;
  const serverAddress = getAddress(input.serverAddress);
  const typedData = receiptTypedData(input.chain.chainId, {
    server: serverAddress,
    operationId: input.operationId,
    grantId: input.grantId ?? '0',
    blockNumber,
    app: input.appAddress,
    operation: input.operation,
    operationVersion: run.operationVersion,
    codeHash: run.codeHash,
    inputsHash: inputsHash(input.files),
    parametersHash: parametersHash(parameters),
    outputHash: outputHash(run.output),
    engine: run.engine,
    model: run.model,
    privacyEpsilon,
    quotedChars: String(run.quotedChars),
    issuedAt: new Date().toISOString(),
  });
  // What viem's signTypedData does, with the EIP-712 digest computed once: it is also the receipt hash.
  const digest = receiptHash(typedData);
  const signature = await sign({ hash: digest, privateKey, to: 'hex' });
  return { receipt: { typedData, signature, signer: serverAddress }, digest };
}

/**
 * One checker per child, reused across its jobs: a checker made per job re-verified the chain id on every job
 * (one more sequential RPC before the head and the grant reads). Every job still reads the head; a decision is
 * reused only at that same block (cacheTtlBlocks 1), whose state cannot change, so a revocation is seen by the
 * first job after its block. What it keeps is public chain state, nothing of a tenant's data.
 */
let sharedChecker: { key: string; checker: PermissionChecker } | undefined;

function checkerFor(chain: OperationTaskInput['chain']): PermissionChecker {
  const key = `${chain.rpcUrl}|${chain.chainId}|${chain.dataPermissionsAddress}|${chain.timeoutMs}`;
  if (sharedChecker?.key !== key) {
    sharedChecker?.checker.close();
    sharedChecker = { key, checker: new PermissionChecker({ ...chain, cacheTtlBlocks: 1 }) };
  }
  return sharedChecker.checker;
}

/**
 * One key manager per child, as long as the job's options stay the same: a local manager made per job checked
 * its keystore (mkdir, stat, read, verify) on every job. It holds what every job's input carries anyway (the
 * master key of a local keystore, an AWS client); tenant keys are read per call and zeroed.
 */
let sharedKeyManager: { fingerprint: string; manager: KeyManager } | undefined;

function keyManagerFor(options: KeyManagerOptions): KeyManager {
  const hash = createHash('sha256');
  if (options.provider === 'local') {
    hash.update(options.masterKey).update(JSON.stringify({ ...options, masterKey: undefined }));
  } else {
    hash.update(JSON.stringify(options));
  }
  const fingerprint = hash.digest('hex');
  if (sharedKeyManager?.fingerprint !== fingerprint) {
    sharedKeyManager = { fingerprint, manager: createKeyManager(options) };
  }
  return sharedKeyManager.manager;
}

/**
 * Wrapped identity keys already seen to match their server's address (sha256 of the ciphertext + address; no
 * key material). Unwrapping the same ciphertext always gives the same key, so the public-key derivation that
 * proves the match is done once per server and child, not once per job.
 */
const verifiedIdentities = new Set<string>();
const MAX_VERIFIED_IDENTITIES = 10_000;

function identityMatches(wrappedIdentityKey: Buffer, privateKey: Hex, serverAddress: string): boolean {
  const id = `${createHash('sha256').update(wrappedIdentityKey).digest('hex')}:${serverAddress.toLowerCase()}`;
  if (verifiedIdentities.has(id)) return true;
  if (privateKeyToAddress(privateKey).toLowerCase() !== serverAddress.toLowerCase()) return false;
  if (verifiedIdentities.size >= MAX_VERIFIED_IDENTITIES) verifiedIdentities.clear();
  verifiedIdentities.add(id);
  return true;
}

async function unwrapFileKey(
  kms: KeyManager,
  input: OperationTaskInput,
  file: TaskFile,
  scope: JobScope,
): Promise<Buffer | null> {
  // A personal server's client envelope has no data key (it opens with the identity key alone); a
  // collective's is also sealed under a member-key data key, so the member's removal shreds it.
  if (!file.wrappedDataKey) return null;
  // file.kmsKeyRef: the member key of a collective's contribution, else the tenant key.
  return scope.track(
    await kms.unwrapDataKey(file.kmsKeyRef, file.wrappedDataKey, fileKeyContext(input.serverId, file.fileId)),
  );
}

function decryptFile(
  serverId: string,
  file: TaskFile,
  dataKey: Buffer | null,
  identityKey: Buffer,
  scope: JobScope,
): Buffer {
  if (file.encryption === 'client' && !dataKey) {
    return decryptEnvelope(identityKey, Buffer.concat(file.chunks));
  }
  if (!dataKey) throw new Error('missing data key');
  const last = file.chunks.length - 1;
  const opened = decryptChunks(
    dataKey,
    fileChunkAad(serverId, file.fileId),
    file.chunks.map((sealed, index) => ({ index, isFinal: index === last, sealed })),
  );
  if (file.encryption !== 'client') return opened;
  // The member-key layer held the envelope; the envelope itself opens with the identity key.
  return decryptEnvelope(identityKey, scope.track(opened));
}

/**
 * Loaded once per child before it takes jobs: the NLP model, secp256k1's precomputed tables (the first
 * signature otherwise costs hundreds of ms) and a keep-alive connection to the chain. None of it is tenant data.
 */
export async function warmupOperationTask(): Promise<void> {
  await warmupEngines();
  const probe = privateKeyToAccount(`0x${'11'.repeat(32)}`);
  await probe.signMessage({ message: 'warmup' });
  const rpcUrl = process.env.HEARTH_CHILD_RPC_URL;
  if (rpcUrl) {
    // The checker's own HTTP client, so the connection it opens is the one jobs reuse.
    await rpcFetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
      signal: AbortSignal.timeout(2000),
    }).then((r) => r.arrayBuffer());
  }
}
