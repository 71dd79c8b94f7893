import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BadRequestException,
  ForbiddenException,
  InternalServerErrorException,
  NotFoundException,
} from '@nestjs/common';
import { CryptoError } from '@hearth/crypto';
import { ErrorCode, ProblemError } from '@hearth/errors';
import { InferenceError } from '@hearth/inference';
import { KeyManagerError } from '@hearth/kms';
import { PermissionsError, type PermissionsErrorCode } from '@hearth/permissions';
import { z } from 'zod';
import { clientCiphertextProblem, permissionsProblem, prefixFields, problemOf } from './library-errors';

const fieldErrors = [{ field: 'message.nonce', code: 'stale_nonce' as const, message: 'nonce already used' }];

function permissions(code: PermissionsErrorCode): PermissionsError {
  return new PermissionsError(code, `relayer said ${code}`, fieldErrors);
}

describe('permissionsProblem', () => {
  it('maps validation to a 400 naming the fields under the prefix', () => {
    const p = permissionsProblem(permissions('validation_failed'), { prefix: 'typedData.' });
    assert.equal(p.status, 400);
    assert.equal(p.code, ErrorCode.validation_failed);
    assert.deepEqual(p.errors, [{ ...fieldErrors[0], field: 'typedData.message.nonce' }]);
  });

  it('puts signature failures on the signature field', () => {
    for (const code of ['invalid_signature', 'signature_mismatch'] as const) {
      const p = permissionsProblem(permissions(code), { prefix: 'typedData.' });
      assert.equal(p.status, 400);
      assert.equal(p.code, code);
      assert.deepEqual(p.errors, [{ field: 'signature', code, message: `relayer said ${code}` }]);
    }
  });

  it('maps conflict, forbidden and policy codes one to one', () => {
    assert.equal(permissionsProblem(permissions('conflict')).status, 409);
    assert.equal(permissionsProblem(permissions('forbidden')).status, 403);
    const policy = permissionsProblem(permissions('policy_invalid'));
    assert.deepEqual([policy.status, policy.code], [400, ErrorCode.policy_invalid]);
  });

  it('grant codes: a grant is not found (404) or refused (400, logged)', () => {
    const notFound = permissionsProblem(permissions('grant_not_found'));
    assert.deepEqual([notFound.status, notFound.code], [404, ErrorCode.grant_not_found]);
    const warned: unknown[][] = [];
    const refused = permissionsProblem(permissions('grant_invalid'), {
      logger: { warn: (...args: unknown[]) => warned.push(args) },
    });
    assert.deepEqual([refused.status, refused.code], [400, ErrorCode.grant_invalid]);
    assert.equal(warned.length, 1);
    assert.deepEqual(warned[0][0], {
      err: { name: 'PermissionsError', message: 'relayer said grant_invalid' },
    });
  });

  it('for a whitelist change, every grant code means the policy change was refused', () => {
    for (const code of ['grant_not_found', 'grant_invalid', 'policy_invalid'] as const) {
      const p = permissionsProblem(permissions(code), { prefix: 'typedData.', subject: 'whitelist' });
      assert.deepEqual([p.status, p.code], [400, ErrorCode.policy_invalid], code);
      assert.equal(p.errors?.[0]?.field, 'typedData.message.nonce');
    }
  });

  it('chain_unavailable is a 503, with Retry-After only when asked for', () => {
    const bare = permissionsProblem(permissions('chain_unavailable'));
    assert.deepEqual([bare.status, bare.code, bare.headers], [503, ErrorCode.chain_unavailable, undefined]);
    const retry = permissionsProblem(permissions('chain_unavailable'), { retryAfterSeconds: 5 });
    assert.deepEqual(retry.headers, { 'Retry-After': '5' });
  });
});

describe('prefixFields', () => {
  it('prefixes every field but the prefixed part itself', () => {
    const errors = [
      { field: 'typedData', code: 'required', message: 'm' },
      { field: 'domain.name', code: 'wrong_domain', message: 'm' },
    ];
    assert.deepEqual(
      prefixFields('typedData.', errors).map((e) => e.field),
      ['typedData', 'typedData.domain.name'],
    );
    assert.deepEqual(prefixFields('', errors), errors);
  });
});

describe('clientCiphertextProblem', () => {
  it('names the wrong recipient', () => {
    const p = clientCiphertextProblem(new CryptoError('envelope_wrong_recipient', 'x'));
    assert.deepEqual(
      [p.status, p.code, p.errors?.[0]?.code],
      [400, ErrorCode.envelope_wrong_recipient, 'wrong_recipient'],
    );
  });

  it('names the crypto code of any other failure', () => {
    const p = clientCiphertextProblem(new CryptoError('ciphertext_tampered', 'x'), 'file');
    assert.deepEqual([p.status, p.code], [400, ErrorCode.ciphertext_invalid]);
    assert.deepEqual(p.errors?.[0], {
      field: 'file',
      code: 'ciphertext_tampered',
      message: 'see the envelope format in libs/crypto/ENVELOPE.md',
    });
  });
});

describe('problemOf', () => {
  it('passes problems through untouched', () => {
    const problem = new ProblemError(418, ErrorCode.conflict, 'teapot');
    assert.equal(problemOf(problem), problem);
  });

  it('maps a relayer error with no context', () => {
    assert.equal(problemOf(permissions('forbidden')).status, 403);
  });

  it('maps key-manager failures: outage 503, destroyed 410, the rest a bare 500', () => {
    const outage = problemOf(new KeyManagerError('kms_unavailable', 'down'));
    assert.deepEqual([outage.status, outage.code], [503, ErrorCode.key_manager_unavailable]);
    assert.equal(outage.headers?.['Retry-After'], '5');
    const gone = problemOf(new KeyManagerError('key_destroyed', 'gone'));
    assert.deepEqual([gone.status, gone.code], [410, ErrorCode.key_destroyed]);
    for (const code of ['unwrap_failed', 'key_not_found', 'invalid_argument'] as const) {
      const p = problemOf(new KeyManagerError(code, `secret detail ${code}`));
      assert.deepEqual([p.status, p.code, p.detail], [500, ErrorCode.internal_error, 'Internal error']);
    }
  });

  it('maps an unreachable Postgres or Redis to a 503 naming it, with Retry-After', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const shutdown = Object.assign(new Error('query failed'), {
      driverError: { code: '57P01', message: 'terminating connection due to administrator command' },
    });
    for (const err of [refused, shutdown, new Error('Connection terminated unexpectedly')]) {
      const p = problemOf(err);
      assert.deepEqual(
        [p.status, p.code, p.headers?.['Retry-After']],
        [503, ErrorCode.database_unavailable, '5'],
      );
    }
    const redis = problemOf(new Error("Stream isn't writeable and enableOfflineQueue options is false"));
    assert.deepEqual(
      [redis.status, redis.code, redis.headers?.['Retry-After']],
      [503, ErrorCode.queue_unavailable, '5'],
    );
    const syntax = problemOf(Object.assign(new Error('syntax error'), { code: '42601' }));
    assert.equal(syntax.status, 500, 'a bad statement is ours, not an outage');
  });

  it('maps engine failures without disclosing operator configuration', () => {
    const unknown = problemOf(new InferenceError('unknown_operation', 'no such op'));
    assert.deepEqual([unknown.status, unknown.code], [404, ErrorCode.unknown_operation]);
    const fields = [{ field: 'parameters.k', code: 'too_small', message: 'm' }];
    const invalid = problemOf(new InferenceError('invalid_parameters', 'bad', fields));
    assert.deepEqual(
      [invalid.status, invalid.code, invalid.errors],
      [400, ErrorCode.invalid_parameters, fields],
    );
    const busy = problemOf(new InferenceError('engine_unavailable', 'model path /secret'));
    assert.deepEqual([busy.status, busy.code], [503, ErrorCode.service_unavailable]);
    assert.doesNotMatch(busy.detail, /secret/);
    const untrusted = problemOf(new InferenceError('untrusted_endpoint', 'https://internal.example'));
    assert.deepEqual([untrusted.status, untrusted.detail], [500, 'Internal error']);
  });

  it('maps zod errors to a 400 naming each field', () => {
    const result = z.object({ name: z.string() }).safeParse({ name: 1 });
    assert.ok(!result.success);
    const p = problemOf(result.error);
    assert.deepEqual([p.status, p.code, p.errors?.[0]?.field], [400, ErrorCode.validation_failed, 'name']);
  });

  it('a crypto error of our own data is a bare 500', () => {
    const p = problemOf(new CryptoError('ciphertext_tampered', 'chunk 3'));
    assert.deepEqual([p.status, p.code, p.detail], [500, ErrorCode.internal_error, 'Internal error']);
  });

  it("maps Fastify's request errors to 4xx problems, never a 500", () => {
    const tooLarge = problemOf({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });
    assert.deepEqual([tooLarge.status, tooLarge.code], [413, ErrorCode.payload_too_large]);
    const badHeader = problemOf({ code: 'FST_ERR_BAD_URL', statusCode: 400 });
    assert.deepEqual([badHeader.status, badHeader.code], [400, ErrorCode.validation_failed]);
    // Anything else shaped like it, or a 5xx of the framework, stays a bare 500.
    assert.equal(problemOf({ code: 'ECONNRESET', statusCode: 400 }).status, 500);
    assert.equal(problemOf({ code: 'FST_ERR_SOMETHING', statusCode: 500 }).status, 500);
  });

  it("maps Nest's exceptions by status, hiding server-side messages", () => {
    const notFound = problemOf(new NotFoundException('Cannot GET /nope'));
    assert.deepEqual(
      [notFound.status, notFound.code, notFound.detail],
      [404, ErrorCode.route_not_found, 'No such route'],
    );
    assert.equal(problemOf(new ForbiddenException('no')).code, ErrorCode.forbidden);
    assert.equal(problemOf(new BadRequestException('bad')).detail, 'bad');
    const internal = problemOf(new InternalServerErrorException('db password'));
    assert.deepEqual([internal.status, internal.detail], [500, 'Internal error']);
  });

  it('anything else is a bare 500', () => {
    for (const err of [new Error('boom at /src/x.ts:1'), 'a string', null, undefined, 42]) {
      const p = problemOf(err);
      assert.deepEqual([p.status, p.code, p.detail], [500, ErrorCode.internal_error, 'Internal error']);
    }
  });
});
