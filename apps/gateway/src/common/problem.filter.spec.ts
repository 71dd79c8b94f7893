import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '@nestjs/common';
import { ErrorCode, ProblemError } from '@hearth/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from './problem.filter';

/** The reply surface sendProblem uses, recording what it was given. */
function fakeReply(): { reply: FastifyReply; sent: { status?: number; type?: string; body?: string } } {
  const sent: { status?: number; type?: string; body?: string } = {};
  const reply = {
    sent: false,
    raw: { headersSent: false, end: () => undefined },
    status(code: number) {
      sent.status = code;
      return this;
    },
    headers() {
      return this;
    },
    type(t: string) {
      sent.type = t;
      return this;
    },
    send(body: string) {
      sent.body = body;
      return Promise.resolve(this);
    },
  };
  return { reply: reply as unknown as FastifyReply, sent };
}

function fakeLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = { error: (obj: Record<string, unknown>) => void lines.push(obj) };
  return { logger: logger as unknown as Logger, lines };
}

describe('sendProblem', () => {
  const req = { id: 'req-123', url: '/v1/things?x=1' } as unknown as FastifyRequest;

  it('logs every 5xx with its request id, and answers it as a bare problem', () => {
    const { reply, sent } = fakeReply();
    const { logger, lines } = fakeLogger();
    sendProblem(req, reply, new Error('database exploded: secret detail'), logger);
    assert.equal(sent.status, 500);
    assert.equal(sent.type, 'application/problem+json');
    assert.equal(lines.length, 1);
    assert.equal(lines[0].reqId, 'req-123');
    const body = JSON.parse(sent.body!) as { requestId: string; detail: string };
    assert.equal(body.requestId, 'req-123');
    assert.doesNotMatch(body.detail, /secret/);
  });

  it('does not log a 4xx as an error', () => {
    const { reply, sent } = fakeReply();
    const { logger, lines } = fakeLogger();
    sendProblem(req, reply, new ProblemError(400, ErrorCode.malformed_json, 'bad'), logger);
    assert.equal(sent.status, 400);
    assert.equal(lines.length, 0);
  });
});
