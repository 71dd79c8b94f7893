import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { ErrorCode, ProblemError } from '@hearth/errors';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';

export const QUEUES_DASHBOARD_PATH = '/admin/queues';

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The queue dashboard behind the admin token, as a Fastify plugin to register at QUEUES_DASHBOARD_PATH:
 * `Authorization: Bearer <ADMIN_TOKEN>` for tools, or HTTP Basic (any user, the token as password) so a browser
 * can open it.
 */
export function queuesDashboard(
  queue: Queue,
  adminToken: string,
  onDenied: (req: FastifyRequest, reply: FastifyReply, err: unknown) => void,
): (scope: FastifyInstance) => Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUES_DASHBOARD_PATH);
  createBullBoard({ queues: [new BullMQAdapter(queue, { readOnlyMode: false })], serverAdapter });
  return async (scope) => {
    scope.addHook('onRequest', async (req, reply) => {
      const header = req.headers.authorization ?? '';
      let secret = '';
      if (header.startsWith('Bearer ')) secret = header.slice(7);
      else if (header.startsWith('Basic '))
        secret = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':').slice(1).join(':');
      if (secret && sameSecret(secret, adminToken)) return;
      void reply.header('WWW-Authenticate', 'Basic realm="hearth-admin"');
      onDenied(req, reply, new ProblemError(401, ErrorCode.unauthorized, 'The admin token is required'));
      return reply;
    });
    await scope.register(serverAdapter.registerPlugin());
  };
}
