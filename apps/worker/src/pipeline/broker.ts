import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { fileChunkAad, identityKeyContext, metadataKeyContext, resultKeyContext } from '@hearth/blobs';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import {
  CRYPTO_OPERATION_ERRORS,
  ENVELOPE_HEADER_LENGTH,
  envelopeHeaderLength,
  envelopeKey,
  isCryptoError,
  openChunk,
} from '@hearth/crypto';
import { OperationErrorCode } from '@hearth/errors';
import {
  fileKeyContext,
  isKeyManagerError,
  KEY_MANAGER_OPERATION_ERRORS,
  keyManagerFromConfig,
  type KeyManager,
} from '@hearth/kms';
import { type PermissionDecision, PermissionChecker } from '@hearth/permissions';
import { inputsHash, receiptHash, receiptTypedData, type SignedReceipt } from '@hearth/receipts';
import { createHash } from 'node:crypto';
import { getAddress, type Hex } from 'viem';
import { privateKeyToAddress, sign } from 'viem/accounts';
import { IsolationPool } from './isolation-pool';
import type {
  ChildTimings,
  OperationTaskInput,
  OperationTaskOutput,
  SandboxFile,
  SandboxTaskInput,
  SandboxTaskOutput,
} from './operation-task.types';

function since(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}

/** Every Buffer of the sandbox input that holds a key: wiped in the broker once the sandbox has answered. */
function wipeKeys(input: SandboxTaskInput): void {
  input.metadataKey.fill(0);
  input.resultKey.fill(0);
  for (const f of input.files) {
    f.dataKey?.fill(0);
    f.envelopeKey?.fill(0);
  }
}

/**
 * The trusted half of an operation, in the worker: 1. the permission check on-chain, right before any key is
 * unwrapped (fails closed), 2. only this job's keys from the key manager (the files' data keys, the metadata
 * key, a fresh result key; a client envelope's own key derived here from the identity key), 3. the sandbox
 * decrypts, runs the engine and seals the result, 4. the receipt signed here with the server's identity key.
 * The sandbox never sees the key manager, a tenant key or an identity key.
 */
@Injectable()
export class OperationBroker implements OnApplicationShutdown {
  private keys?: Promise<KeyManager>;
  private checker?: { key: string; checker: PermissionChecker };
  /**
   * Wrapped identity keys already seen to match their server's address (sha256 of the ciphertext + address; no
   * key material): the public-key derivation that proves the match is done once per server, not per job.
   */
  private readonly verifiedIdentities = new Set<string>();

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    private readonly isolation: IsolationPool,
  ) {}

  /** Runs the operation; rejects with the pool's IsolationError when the sandbox failed. */
  async run(input: OperationTaskInput): Promise<OperationTaskOutput> {
    const timings: Partial<ChildTimings> = {};
    let start = performance.now();
    const decision = await this.checkPermission(input);
    timings.chain = since(start);
    if (!decision.allowed) {
      const blockNumber = decision.blockNumber?.toString(10) ?? null;
      return {
        outcome: 'denied',
        code: decision.code,
        detail: `permission denied: ${decision.code}`,
        blockNumber,
        timings,
      };
    }
    const blockNumber = decision.blockNumber.toString(10);
    let identityKey: Buffer | undefined;
    let sandboxInput: SandboxTaskInput | undefined;
    let resultWrappedKey: Buffer;
    try {
      start = performance.now();
      const kms = await this.keyManager();
      identityKey = await kms.decrypt(
        input.kmsKeyRef,
        input.wrappedIdentityKey,
        identityKeyContext(input.serverId),
      );
      const privateKey: Hex = `0x${identityKey.toString('hex')}`;
      if (!this.identityMatches(input.wrappedIdentityKey, privateKey, input.serverAddress)) {
        const detail = 'the server identity key does not match its address';
        return {
          outcome: 'failed',
          code: OperationErrorCode.identity_mismatch,
          detail,
          blockNumber,
          timings,
        };
      }
      const prepared = await this.sandboxInput(kms, input, identityKey);
      sandboxInput = prepared.input;
      resultWrappedKey = prepared.resultWrappedKey;
      timings.kms = since(start);
    } catch (err) {
      identityKey?.fill(0);
      if (sandboxInput) wipeKeys(sandboxInput);
      if (isKeyManagerError(err)) {
        const code = KEY_MANAGER_OPERATION_ERRORS[err.code];
        return { outcome: 'failed', code, detail: `key manager: ${err.code}`, blockNumber, timings };
      }
      if (isCryptoError(err)) {
        const code = CRYPTO_OPERATION_ERRORS[err.code];
        return {
          outcome: 'failed',
          code,
          detail: `a file failed to decrypt (${err.code})`,
          blockNumber,
          timings,
        };
      }
      throw err;
    }
    let out: SandboxTaskOutput;
    try {
      out = await this.isolation.pool.run<SandboxTaskInput, SandboxTaskOutput>('operation', sandboxInput);
    } catch (err) {
      identityKey.fill(0);
      throw err;
    } finally {
      wipeKeys(sandboxInput);
    }
    try {
      if (out.outcome !== 'succeeded')
        return { ...out, blockNumber, timings: { ...timings, ...out.timings } };
      start = performance.now();
      const signed = await this.signReceipt(input, identityKey, out, blockNumber);
      return {
        outcome: 'succeeded',
        blockNumber,
        resultCiphertext: out.resultCiphertext,
        resultWrappedKey,
        receipt: signed.receipt,
        receiptHash: signed.digest,
        inputBytes: out.inputBytes,
        privacyEpsilon: out.privacyEpsilon,
        timings: {
          chain: timings.chain ?? 0,
          kms: timings.kms ?? 0,
          decrypt: out.timings.decrypt,
          engine: out.timings.engine,
          seal: Math.round((out.timings.seal + since(start)) * 100) / 100,
        },
      };
    } finally {
      identityKey.fill(0);
    }
  }

  /** What the sandbox gets: ciphertext, this job's data keys, a fresh result key, nothing that unwraps more. */
  private async sandboxInput(
    kms: KeyManager,
    input: OperationTaskInput,
    identityKey: Buffer,
  ): Promise<{ input: SandboxTaskInput; resultWrappedKey: Buffer }> {
    const files: SandboxFile[] = [];
    const partial: SandboxTaskInput = {
      operationId: input.operationId,
      serverId: input.serverId,
      operation: input.operation,
      sealedParameters: input.sealedParameters,
      metadataKey: Buffer.alloc(0),
      resultKey: Buffer.alloc(0),
      k: input.k,
      inference: input.inference,
      files,
      privacy: input.privacy,
    };
    try {
      partial.metadataKey = await kms.unwrapDataKey(
        input.kmsKeyRef,
        input.wrappedMetadataKey,
        metadataKeyContext(input.serverId),
      );
      for (const file of input.files) {
        const sandboxFile: SandboxFile = {
          fileId: file.fileId,
          sealedName: file.sealedName,
          sealedContentType: file.sealedContentType,
          encryption: file.encryption,
          chunks: file.chunks,
          contributor: file.contributor,
          dataKey: null,
          envelopeKey: null,
          ciphertextSha256: file.ciphertextSha256,
          sealedIndex: file.sealedIndex,
        };
        files.push(sandboxFile);
        // file.kmsKeyRef: the member key of a collective's contribution, else the tenant key.
        if (file.wrappedDataKey) {
          sandboxFile.dataKey = await kms.unwrapDataKey(
            file.kmsKeyRef,
            file.wrappedDataKey,
            fileKeyContext(input.serverId, file.fileId),
          );
        }
        if (file.encryption === 'client')
          sandboxFile.envelopeKey = this.envelopeKeyOf(input.serverId, file.fileId, sandboxFile, identityKey);
      }
      const result = await kms.generateDataKey(
        input.kmsKeyRef,
        resultKeyContext(input.serverId, input.operationId),
      );
      partial.resultKey = result.plaintext;
      return { input: partial, resultWrappedKey: result.wrapped };
    } catch (err) {
      wipeKeys(partial);
      throw err;
    }
  }

  /**
   * A client envelope's own key, from the identity key and the envelope's public header. A collective's envelope
   * sits inside a member-key layer: its first chunk is opened here for the header (envelope ciphertext only).
   */
  private envelopeKeyOf(serverId: string, fileId: string, file: SandboxFile, identityKey: Buffer): Buffer {
    if (!file.dataKey) {
      const start = Buffer.concat(file.chunks);
      // Version 1 and version 2 (owner slot) headers differ in length; the first bytes say which.
      const length = start.length >= 5 ? envelopeHeaderLength(start) : ENVELOPE_HEADER_LENGTH;
      return envelopeKey(identityKey, start.subarray(0, length));
    }
    const first = file.chunks[0];
    if (!first) return envelopeKey(identityKey, Buffer.alloc(0));
    const opened = openChunk(
      file.dataKey,
      fileChunkAad(serverId, fileId),
      0,
      file.chunks.length === 1,
      first,
    );
    try {
      return envelopeKey(identityKey, opened);
    } finally {
      opened.fill(0);
    }
  }

  /** The grant (or the server's own contract) allows this app, operation and files at the chain's head. */
  private checkPermission(input: OperationTaskInput): Promise<PermissionDecision> {
    return this.checkerFor(input.chain).check({
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

  /**
   * One checker per worker: every job still reads the head; a decision is reused only at that same block
   * (cacheTtlBlocks 1), whose state cannot change, so a revocation is seen by the first job after its block.
   */
  private checkerFor(chain: OperationTaskInput['chain']): PermissionChecker {
    const key = `${chain.rpcUrl}|${chain.chainId}|${chain.dataPermissionsAddress}|${chain.timeoutMs}`;
    if (this.checker?.key !== key) {
      this.checker?.checker.close();
      this.checker = { key, checker: new PermissionChecker({ ...chain, cacheTtlBlocks: 1 }) };
    }
    return this.checker.checker;
  }

  private keyManager(): Promise<KeyManager> {
    this.keys ??= keyManagerFromConfig(this.config);
    this.keys.catch(() => {
      this.keys = undefined;
    });
    return this.keys;
  }

  private identityMatches(wrappedIdentityKey: Buffer, privateKey: Hex, serverAddress: string): boolean {
    const id = `${createHash('sha256').update(wrappedIdentityKey).digest('hex')}:${serverAddress.toLowerCase()}`;
    if (this.verifiedIdentities.has(id)) return true;
    if (privateKeyToAddress(privateKey).toLowerCase() !== serverAddress.toLowerCase()) return false;
    if (this.verifiedIdentities.size >= 10_000) this.verifiedIdentities.clear();
    this.verifiedIdentities.add(id);
    return true;
  }

  /** The EIP-712 receipt: what the sandbox reported about the run, the sandbox level and this worker's code. */
  private async signReceipt(
    input: OperationTaskInput,
    identityKey: Buffer,
    out: SandboxTaskOutput & { outcome: 'succeeded' },
    blockNumber: string,
  ): Promise<{ receipt: SignedReceipt; digest: Hex }> {
    const privateKey: Hex = `0x${identityKey.toString('hex')}`;
    const serverAddress = getAddress(input.serverAddress);
    const typedData = receiptTypedData(input.chain.chainId, {
      server: serverAddress,
      operationId: input.operationId,
      grantId: input.grantId ?? '0',
      blockNumber,
      app: input.appAddress,
      operation: input.operation,
      operationVersion: out.operationVersion,
      codeHash: out.codeHash,
      inputsHash: inputsHash(input.files),
      parametersHash: out.parametersHash,
      outputHash: out.outputHash,
      engine: out.engine,
      model: out.model,
      privacyEpsilon: out.privacyEpsilon,
      quotedChars: out.quotedChars,
      sandboxLevel: this.isolation.sandbox.level,
      workerCodeHash: this.isolation.codeHash,
      issuedAt: new Date().toISOString(),
    });
    // What viem's signTypedData does, with the EIP-712 digest computed once: it is also the receipt hash.
    const digest = receiptHash(typedData);
    const signature = await sign({ hash: digest, privateKey, to: 'hex' });
    return { receipt: { typedData, signature, signer: serverAddress }, digest };
  }

  onApplicationShutdown(): void {
    this.checker?.checker.close();
  }
}
