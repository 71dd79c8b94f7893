import { ErrorCode, ProblemError } from '@hearth/errors';
import {
  type KnownSigners,
  type VerifiedWeb3Signed,
  verifyWeb3Signed,
  Web3SignedError,
  type Web3SignedFailure,
} from '@hearth/permissions';
import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import type { Hex } from 'viem';
import { DpError } from './dp-error';

/**
 * Web3Signed verification for any Hearth route (the Data Portability routes, and anything else that takes
 * builder-signed requests): the spec's checks (libs/permissions verifyWeb3Signed) plus what the reference lacks,
 * each signed payload accepted once. Errors are DpErrors with stable codes.
 */

export interface Web3SignedRequestInput {
  authorization: string | undefined;
  method: string;
  /** The request-target exactly as received (path and query string). */
  uri: string;
  body?: Uint8Array;
  /** The origins this server answers as. */
  audiences: readonly string[];
  skewSeconds: number;
  /** A signer the caller expects (e.g. the grantee of a cached grant): checked first, against its cached key. */
  expectedSigner?: Hex;
  knownSigners?: KnownSigners;
  now?: number;
}

const FAILURES: Record<Web3SignedFailure, { status: number; code: ErrorCode }> = {
  missing: { status: 401, code: ErrorCode.dp_auth_missing },
  malformed: { status: 401, code: ErrorCode.dp_auth_malformed },
  bad_signature: { status: 401, code: ErrorCode.dp_signature_invalid },
  wrong_audience: { status: 401, code: ErrorCode.dp_wrong_audience },
  wrong_method: { status: 401, code: ErrorCode.dp_request_mismatch },
  wrong_uri: { status: 401, code: ErrorCode.dp_request_mismatch },
  wrong_body_hash: { status: 401, code: ErrorCode.dp_body_hash_mismatch },
  expired: { status: 401, code: ErrorCode.dp_auth_expired },
  not_yet_valid: { status: 401, code: ErrorCode.dp_auth_expired },
  window_too_long: { status: 401, code: ErrorCode.dp_auth_expired },
};

/** The DpError a Web3SignedError stands for (401, protocol code 401). */
export function web3SignedProblem(err: Web3SignedError): DpError {
  const { status, code } = FAILURES[err.failure];
  return new DpError(
    status,
    code,
    err.message,
    401,
    { reason: err.failure },
    {
      'WWW-Authenticate': 'Web3Signed',
    },
  );
}

/** Every claim and the signature; throws a DpError. No registry is read and nothing is recorded. */
export function verifyWeb3SignedRequest(input: Web3SignedRequestInput): VerifiedWeb3Signed {
  try {
    return verifyWeb3Signed(
      input.authorization,
      {
        audiences: input.audiences,
        method: input.method,
        uri: input.uri,
        body: input.body,
        now: input.now ?? Math.floor(Date.now() / 1000),
        skewSeconds: input.skewSeconds,
      },
      { expected: input.expectedSigner, known: input.knownSigners },
    );
  } catch (err) {
    if (err instanceof Web3SignedError) throw web3SignedProblem(err);
    throw err;
  }
}

/**
 * Accepts a verified payload once: SET NX of its SHA-256 in Redis until `exp` plus the skew (after which the
 * payload is refused as expired anyway). A second use is `dp_replayed`; Redis unreachable is a 503 (no payload is
 * accepted unrecorded).
 */
export class ReplayGuard {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async acceptOnce(verified: VerifiedWeb3Signed, skewSeconds: number, now = Date.now()): Promise<void> {
    const ttlMs = Math.max(1000, (verified.payload.exp + skewSeconds) * 1000 - now);
    const key = `${this.prefix}${createHash('sha256').update(verified.encoded).digest('base64url')}`;
    let stored: string | null;
    try {
      stored = await this.redis.set(key, '1', 'PX', ttlMs, 'NX');
    } catch {
      throw new ProblemError(
        503,
        ErrorCode.service_unavailable,
        'The replay cache is unreachable; retry later',
        undefined,
        {
          'Retry-After': '5',
        },
      );
    }
    if (stored !== 'OK') {
      throw new DpError(
        401,
        ErrorCode.dp_replayed,
        'This signed request was already used: sign each request anew',
        401,
      );
    }
  }
}
