import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type HearthConfig, loadConfig } from '@hearth/config';
import type { AddressInfo } from 'node:net';
import { createGateway } from '../../apps/gateway/src/main';
import { createWorker } from '../../apps/worker/src/main';
import { claimDevRelayerKey } from './relayer-key';

// Each test file (its own process under node --test) gets its own queue namespace: a worker of one file must
// never take another file's jobs. Children spawned by the file inherit it through process.env.
if (!process.env.QUEUE_PREFIX?.endsWith(`-${process.pid}`)) {
  process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'hearth-test'}-${process.pid}`;
}

// Test files run in parallel and all relay grants on one dev chain: each process relays from a dev account of its
// own. Children spawned by the file inherit it through process.env.
const relayerKey = claimDevRelayerKey();
if (relayerKey) process.env.RELAYER_PRIVATE_KEY = relayerKey;

/** Config as the test runner set it up (fresh database, dev chain), with per-test overrides. */
export function testConfig(overrides: Record<string, string> = {}): HearthConfig {
  return loadConfig({ ...process.env, PORT: '0', WORKER_HEALTH_PORT: '0', ...overrides });
}

export interface RunningGateway {
  app: NestFastifyApplication;
  url: string;
  config: HearthConfig;
  close(): Promise<void>;
}

/** Boots the real gateway (real Postgres, Redis, chain) on an ephemeral port. */
export async function startGateway(overrides: Record<string, string> = {}): Promise<RunningGateway> {
  const config = testConfig(overrides);
  const app = await createGateway(config);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, config, close: () => app.close() };
}

export interface RunningWorker {
  app: INestApplicationContext;
  config: HearthConfig;
  close(): Promise<void>;
}

export async function startWorker(overrides: Record<string, string> = {}): Promise<RunningWorker> {
  const config = testConfig(overrides);
  const app = await createWorker(config);
  return { app, config, close: () => app.close() };
}

export async function problemOf(res: Response): Promise<{
  status: number;
  code: string;
  errors?: Array<{ field: string; code: string }>;
  detail: string;
}> {
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('application/problem+json'))
    throw new Error(`expected problem+json, got ${type}: ${await res.text()}`);
  return (await res.json()) as {
    status: number;
    code: string;
    errors?: Array<{ field: string; code: string }>;
    detail: string;
  };
}
