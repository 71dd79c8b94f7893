import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { ErrorCode, ProblemError } from '@hearth/errors';
import type { Queue } from 'bullmq';
import type { NextFunction, Request, Response, Router } from 'express';
import { timingSafeEqual } from 'node:crypto';

export const QUEUES_DASHBOARD_PATH = '/admin/queues';

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The queue dashboard behind the admin token: `Authorization: Bearer <ADMIN_TOKEN>` for tools, or HTTP Basic
 * (any user, the token as password) so a browser can open it.
 */
export function queuesDashboard(
  queue: Queue,
  adminToken: string,
  onDenied: (req: Request, res: Response, err: unknown) => void,
): Array<(req: Request, res: Response, next: NextFunction) => void> | Router[] {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUES_DASHBOARD_PATH);
  createBullBoard({ queues: [new BullMQAdapter(queue, { readOnlyMode: false })], serverAdapter });
  const guard = (req: Request, res: Response, next: NextFunction): void => {
    const header = req.headers.authorization ?? '';
    let secret = '';
    if (header.startsWith('Bearer ')) secret = header.slice(7);
    else if (header.startsWith('Basic '))
      secret = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':').slice(1).join(':');
    if (secret && sameSecret(secret, adminToken)) return next();
    res.setHeader('WWW-Authenticate', 'Basic realm="hearth-admin"');
    onDenied(req, res, new ProblemError(401, ErrorCode.unauthorized, 'The admin token is required'));
  };
  return [guard, serverAdapter.getRouter() as (req: Request, res: Response, next: NextFunction) => void];
}
