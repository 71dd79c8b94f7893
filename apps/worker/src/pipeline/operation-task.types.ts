import type { OperationErrorCode } from '@hearth/errors';
import type { InferenceOptions } from '@hearth/inference';
import type { ServerPolicy } from '@hearth/permissions';
import type { SignedReceipt } from '@hearth/receipts';

/** One granted file as the parent hands it to the child: metadata and ciphertext, never plaintext. */
export interface TaskFile {
  fileId: string;
  /** Sealed under the server's metadata key: only the child opens them. */
  sealedName: Buffer;
  sealedContentType: Buffer;
  encryption: 'server' | 'client';
  wrappedDataKey: Buffer | null;
  /** Sealed chunks (server encryption) or the envelope's bytes split in pieces (client encryption). */
  chunks: Buffer[];
  ciphertextSha256: string;
  contributor: string;
  /** Key-manager ref that wrapped the data key: a collective member's own key or the tenant key. */
  kmsKeyRef: string;
  /** The file version's record index, sealed under its index key (null: none stored, the child parses). */
  sealedIndex: Buffer | null;
}

/**
 * What the worker (the broker) holds for one operation: ids, policy and ciphertext, loaded from Postgres. It
 * checks the permission, unwraps keys and hands the sandbox a `SandboxTaskInput`. Never leaves the worker.
 */
export interface OperationTaskInput {
  operationId: string;
  serverId: string;
  serverAddress: `0x${string}`;
  ownerAddress: `0x${string}`;
  appAddress: `0x${string}`;
  policy: ServerPolicy;
  grantId: string | null;
  operation: string;
  /** The parameters' JSON sealed under the server's metadata key: only the child opens it. */
  sealedParameters: Buffer;
  /** The server's metadata key, wrapped by its tenant key. */
  wrappedMetadataKey: Buffer;
  k: number;
  kmsKeyRef: string;
  wrappedIdentityKey: Buffer;
  chain: { rpcUrl: string; chainId: number; dataPermissionsAddress: `0x${string}`; timeoutMs: number };
  inference: InferenceOptions;
  files: TaskFile[];
  /**
   * What the permission check is asked about: the files; on a collective its dataset id (`dst_…`), or no ids and
   * `requireAllFiles` for every current contribution.
   */
  permission: { fileIds: string[]; requireAllFiles: boolean };
  /** Differential privacy (collectives that turn it on): the ε this operation spends on noise. */
  privacy: { epsilon: number } | null;
}

/** One granted file as the sandbox gets it: its ciphertext and only the keys that open it. */
export interface SandboxFile {
  fileId: string;
  sealedName: Buffer;
  sealedContentType: Buffer;
  encryption: 'server' | 'client';
  chunks: Buffer[];
  contributor: string;
  /** Opens the AES-GCM chunks; null for a personal server's client envelope. */
  dataKey: Buffer | null;
  /** A client envelope's own key (derived by the broker from the identity key, which never leaves it). */
  envelopeKey: Buffer | null;
  /** For the record index's AAD: the index is bound to this file version. */
  ciphertextSha256: string;
  /** The file version's record index, sealed under a key derived from the data key (null: the sandbox parses). */
  sealedIndex: Buffer | null;
}

/**
 * What the sandbox gets for one operation, over IPC only: ciphertext, this job's keys and the operation. No key
 * manager, no tenant or identity key, no chain access; every Buffer is wiped when the job ends.
 */
export interface SandboxTaskInput {
  operationId: string;
  serverId: string;
  operation: string;
  sealedParameters: Buffer;
  /** The server's metadata key (parameters, file names and types). */
  metadataKey: Buffer;
  /** A fresh data key the result is sealed under; the broker keeps its wrapped form. */
  resultKey: Buffer;
  k: number;
  inference: InferenceOptions;
  files: SandboxFile[];
  privacy: { epsilon: number } | null;
}

/** What the sandbox answers: the sealed result and what the receipt states about it; never plaintext. */
export type SandboxTaskOutput =
  | { outcome: 'denied' | 'failed'; code: OperationErrorCode; detail: string; timings: Partial<ChildTimings> }
  | {
      outcome: 'succeeded';
      resultCiphertext: Buffer;
      operationVersion: string;
      codeHash: `0x${string}`;
      engine: string;
      model: string;
      parametersHash: `0x${string}`;
      outputHash: `0x${string}`;
      inputBytes: number;
      privacyEpsilon: string;
      /** Characters of the data the output quotes verbatim (decimal string). */
      quotedChars: string;
      timings: Pick<ChildTimings, 'decrypt' | 'engine' | 'seal'>;
    };

/** Milliseconds spent in each step (chain and kms in the broker, the rest in the sandbox). */
export interface ChildTimings {
  chain: number;
  kms: number;
  decrypt: number;
  engine: number;
  seal: number;
}

export type OperationTaskOutput =
  | {
      outcome: 'denied';
      code: OperationErrorCode;
      detail: string;
      blockNumber: string | null;
      timings: Partial<ChildTimings>;
    }
  | {
      outcome: 'failed';
      code: OperationErrorCode;
      detail: string;
      blockNumber: string | null;
      timings: Partial<ChildTimings>;
    }
  | {
      outcome: 'succeeded';
      blockNumber: string;
      resultCiphertext: Buffer;
      resultWrappedKey: Buffer;
      receipt: SignedReceipt;
      receiptHash: `0x${string}`;
      inputBytes: number;
      /** ε the release spent ("0" without differential privacy). */
      privacyEpsilon: string;
      timings: ChildTimings;
    };
