import type { OperationErrorCode } from '@hearth/errors';
import type { InferenceOptions } from '@hearth/inference';
import type { KeyManagerOptions } from '@hearth/kms';
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

/** What the worker sends the isolated child for one operation. Crosses IPC only, never Redis or Postgres. */
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
  kms: KeyManagerOptions;
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

/** Milliseconds spent in each step inside the child. */
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
