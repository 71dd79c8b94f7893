import { sha256Bytes32 } from '@hearth/crypto';
import { weierstrass } from '@noble/curves/abstract/weierstrass';
import { secp256k1 } from '@noble/curves/secp256k1';
import { sha256 } from '@noble/hashes/sha2';
import { createHmac, randomBytes } from 'node:crypto';
import { getAddress, hashTypedData, type Hex, keccak256, recoverTypedDataAddress, stringToHex } from 'viem';

/**
 * Server-signed receipts (EIP-712). Every message field is a string, address or bytes32 so the JSON the API
 * returns can be passed as is to viem's `verifyTypedData` (no bigint revival needed by clients); numbers that
 * can be large (grant id, block number) are decimal strings, as everywhere in the API.
 */
export const RECEIPT_TYPES = {
  Receipt: [
    { name: 'server', type: 'address' },
    { name: 'operationId', type: 'string' },
    { name: 'grantId', type: 'string' },
    { name: 'blockNumber', type: 'string' },
    { name: 'app', type: 'address' },
    { name: 'operation', type: 'string' },
    { name: 'operationVersion', type: 'string' },
    { name: 'codeHash', type: 'bytes32' },
    { name: 'inputsHash', type: 'bytes32' },
    { name: 'parametersHash', type: 'bytes32' },
    { name: 'outputHash', type: 'bytes32' },
    { name: 'engine', type: 'string' },
    { name: 'model', type: 'string' },
    { name: 'privacyEpsilon', type: 'string' },
    { name: 'sandboxLevel', type: 'string' },
    { name: 'workerCodeHash', type: 'bytes32' },
    { name: 'quotedChars', type: 'string' },
    { name: 'issuedAt', type: 'string' },
  ],
} as const;

export interface ReceiptMessage {
  server: Hex;
  operationId: string;
  /** DataPermissions grant id, or "0" when the server's policy is a contract of its own. */
  grantId: string;
  /** The block at which the permission was checked. */
  blockNumber: string;
  app: Hex;
  operation: string;
  operationVersion: string;
  codeHash: Hex;
  inputsHash: Hex;
  /** keccak256 of the canonical JSON of the parameters the operation ran with (defaults filled in). */
  parametersHash: Hex;
  outputHash: Hex;
  engine: string;
  model: string;
  /** Differential privacy: the ε this release spent of the app's budget (decimal string); "0" without noise. */
  privacyEpsilon: string;
  /**
   * How the sandbox that read the data was confined: `none`, `process` (no new privileges, resource limits, a
   * uid of its own) or `namespaced` (bubblewrap: no network, a private read-only view, its own pid namespace).
   */
  sandboxLevel: string;
  /** sha256 over the worker's compiled code (dist/apps/worker and dist/libs) that ran the operation. */
  workerCodeHash: Hex;
  /** Characters of the data the output quotes verbatim (decimal string), as the operation counts them. */
  quotedChars: string;
  /** ISO 8601 UTC. */
  issuedAt: string;
}

export interface ReceiptTypedData {
  domain: { name: 'Hearth Receipt'; version: '1'; chainId: number };
  types: typeof RECEIPT_TYPES;
  primaryType: 'Receipt';
  message: ReceiptMessage;
}

export interface SignedReceipt {
  typedData: ReceiptTypedData;
  signature: Hex;
  signer: Hex;
}

export function receiptTypedData(chainId: number, message: ReceiptMessage): ReceiptTypedData {
  return {
    domain: { name: 'Hearth Receipt', version: '1', chainId },
    types: RECEIPT_TYPES,
    primaryType: 'Receipt',
    message: { ...message, server: getAddress(message.server), app: getAddress(message.app) },
  };
}

/** The EIP-712 digest: what the access log stores as the receipt hash. */
export function receiptHash(typedData: ReceiptTypedData): Hex {
  return hashTypedData(typedData);
}

export async function receiptSigner(receipt: Pick<SignedReceipt, 'typedData' | 'signature'>): Promise<Hex> {
  return recoverTypedDataAddress({ ...receipt.typedData, signature: receipt.signature });
}

/** Hash over the inputs' ciphertexts: each file's ciphertext SHA-256, in the order of the request. */
export function inputsHash(files: Array<{ fileId: string; ciphertextSha256: string }>): Hex {
  return sha256Bytes32(files.map((f) => `${f.fileId}:${f.ciphertextSha256}`).join('\n'));
}

/** Stable JSON (sorted keys) so the output hash does not depend on property order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/**
 * What a receipt says about the parameters (an `ask` question, a prompt template): keccak256 over their canonical
 * JSON, so an app can check that the operation ran with what it sent and the receipt holds no parameter itself.
 */
export function parametersHash(parameters: Record<string, unknown>): Hex {
  return keccak256(stringToHex(canonicalJson(parameters)));
}

export function outputHash(output: unknown): Hex {
  return sha256Bytes32(canonicalJson(output));
}

/**
 * secp256k1 with node's HMAC-SHA-256 for RFC 6979 nonces (noble's own is plain JavaScript, about half the cost of a
 * signature): the same deterministic signatures as viem's `sign`, at less than half the CPU.
 */
const signingCurve = weierstrass({
  ...secp256k1.CURVE,
  hash: sha256,
  hmac: (key: Uint8Array, ...messages: Uint8Array[]) =>
    createHmac('sha256', key).update(Buffer.concat(messages)).digest(),
  randomBytes: (n?: number) => randomBytes(n ?? 32),
});

/** An Ethereum signature (r ‖ s ‖ v, v = 27 + recovery) of a 32-byte digest, low s: what viem's `sign` returns. */
export function signDigest(digest: Hex, privateKey: Hex): Hex {
  const sig = signingCurve.sign(digest.slice(2), privateKey.slice(2), { lowS: true });
  const v = (27 + (sig.recovery ?? 0)).toString(16);
  return `0x${sig.toCompactHex()}${v}`;
}
