import { sha256 } from '@noble/hashes/sha2';
import { getAddress, keccak256, recoverTypedDataAddress, stringToHex, type TypedDataDefinition } from 'viem';
import { toHex } from './bytes';
import { ReceiptVerificationError } from './errors';

export interface Receipt {
  typedData: {
    domain: Record<string, unknown>;
    types: Record<string, Array<{ name: string; type: string }>>;
    primaryType: string;
    message: Record<string, string>;
  };
  signature: `0x${string}`;
  signer: `0x${string}`;
}

/** What `verifyReceipt` needs of an operation (as `run()` or `GET /v1/operations/:id` returns it). */
export interface VerifiableOperation {
  id?: string;
  status?: string;
  result?: unknown;
  parameters?: Record<string, unknown>;
  receipt?: Receipt | Record<string, never>;
}

export interface ReceiptExpectations {
  /** The server's address as fetched from the server: the only signer accepted. */
  serverAddress: string;
  /** The app's wallet (from `whoami`): checked against the receipt's `app` when given. */
  appAddress?: string;
  /**
   * The parameters the app sent: each must be what the operation ran with (the server fills in defaults, so the
   * hash is over the parameters the server returns, which must agree with these).
   */
  parameters?: Record<string, unknown>;
}

export interface VerifiedReceipt {
  signer: `0x${string}`;
  /** The checks that ran, each passed. */
  checked: Array<'signature' | 'server' | 'operationId' | 'app' | 'outputHash' | 'parametersHash'>;
  message: Record<string, string>;
}

/** Sorted-key JSON, as the server hashes results and parameters. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** `0x` SHA-256 of the canonical JSON: a receipt's outputHash. */
export function jsonHash(value: unknown): `0x${string}` {
  return `0x${toHex(sha256(new TextEncoder().encode(canonicalJson(value))))}`;
}

/** keccak256 of the canonical JSON: a receipt's parametersHash (docs/operations-and-receipts.md). */
export function parametersHash(parameters: unknown): `0x${string}` {
  return keccak256(stringToHex(canonicalJson(parameters)));
}

function fail(reason: string, message: string): never {
  throw new ReceiptVerificationError(reason, message);
}

/**
 * Verifies a finished operation's receipt offline, given the server's address fetched from the server:
 * the EIP-712 signature recovers that address (the receipt's own `signer` field is never trusted), the
 * receipt is this operation's, the output hash matches the returned result and, when the receipt carries a
 * parameters hash, the parameters. Throws `ReceiptVerificationError` naming the failed check.
 */
export async function verifyReceiptWith(
  op: VerifiableOperation,
  expect: ReceiptExpectations,
): Promise<VerifiedReceipt> {
  const receipt = op.receipt as Receipt | undefined;
  if (!receipt || !receipt.typedData || !receipt.signature)
    fail('missing', 'the operation carries no receipt');
  const { message } = receipt.typedData;
  let signer: `0x${string}`;
  try {
    signer = await recoverTypedDataAddress({
      ...(receipt.typedData as unknown as TypedDataDefinition),
      signature: receipt.signature,
    });
  } catch (err) {
    fail('signature', `the signature does not recover: ${(err as Error).message}`);
  }
  const server = getAddress(expect.serverAddress);
  if (signer !== server) fail('signature', `signed by ${signer}, not by the server ${server}`);
  const checked: VerifiedReceipt['checked'] = ['signature'];
  if (getAddress(message.server) !== server) fail('server', `the receipt names server ${message.server}`);
  checked.push('server');
  if (op.id !== undefined) {
    if (message.operationId !== op.id)
      fail('operationId', `the receipt is for ${message.operationId}, not ${op.id}`);
    checked.push('operationId');
  }
  if (expect.appAddress !== undefined) {
    if (getAddress(message.app) !== getAddress(expect.appAddress))
      fail('app', `the receipt names app ${message.app}`);
    checked.push('app');
  }
  if (op.status === 'succeeded') {
    if (!('result' in op))
      fail('outputHash', 'the result is not in the operation (expired?): nothing to hash');
    const hash = jsonHash(op.result);
    if (hash !== message.outputHash)
      fail('outputHash', `the result hashes to ${hash}, the receipt says ${message.outputHash}`);
    checked.push('outputHash');
  }
  if (message.parametersHash !== undefined) {
    const parameters = op.parameters ?? expect.parameters;
    if (parameters === undefined)
      fail('parametersHash', 'the receipt has a parameters hash but no parameters were given');
    for (const [name, sent] of Object.entries(expect.parameters ?? {})) {
      if (canonicalJson(sent) !== canonicalJson(parameters[name]))
        fail(
          'parametersHash',
          `the operation ran with ${name} = ${canonicalJson(parameters[name])}, not what was sent`,
        );
    }
    const hash = parametersHash(parameters);
    if (hash !== message.parametersHash) {
      fail('parametersHash', `the parameters hash to ${hash}, the receipt says ${message.parametersHash}`);
    }
    checked.push('parametersHash');
  }
  return { signer, checked, message };
}
