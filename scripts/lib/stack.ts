import { type HearthConfig, loadConfig } from '@hearth/config';
import { runMigrations } from '@hearth/db';
import { startChainForDev } from './chain';
import { checkServices } from './services';
import { type Managed, startNode, stopAll, waitForHttp } from './processes';

export interface Stack {
  config: HearthConfig;
  gatewayUrl: string;
  workerHealthUrl: string;
  procs: Managed[];
  stop(): Promise<void>;
}

/**
 * The whole stack on embedded defaults: migrations, the dev chain (unless CHAIN_RPC_URL is set), gateway and
 * worker as separate processes, exactly as `npm start` and compose run them.
 */
export async function startStack(
  opts: { quiet?: boolean; env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<Stack> {
  const log = opts.log ?? (() => undefined);
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  const preConfig = loadConfig(baseEnv);
  await checkServices(preConfig.DATABASE_URL, preConfig.REDIS_URL);
  const applied = await runMigrations(preConfig.DATABASE_URL);
  log(applied.length ? `migrations applied: ${applied.join(', ')}` : 'database schema up to date');
  const chain = await startChainForDev(baseEnv, preConfig, log);
  const env: NodeJS.ProcessEnv = { ...baseEnv, ...chain.env };
  const config = loadConfig(env);
  const procs = [
    startNode('gateway', 'apps/gateway/src/main.js', env, opts.quiet),
    startNode('worker', 'apps/worker/src/main.js', env, opts.quiet),
  ];
  const host = config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST;
  const gatewayUrl = `http://${host}:${config.PORT}`;
  const workerHealthUrl = `http://${host}:${config.WORKER_HEALTH_PORT}`;
  const stop = async () => {
    await stopAll(procs);
    await chain.stop();
  };
  try {
    await Promise.race([
      Promise.all([
        waitForHttp(`${gatewayUrl}/health/ready`),
        waitForHttp(`${workerHealthUrl}/health/ready`),
      ]),
      ...procs.map((p) =>
        p.exited.then((code) => Promise.reject(new Error(`${p.name} exited with code ${code} during start`))),
      ),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { config, gatewayUrl, workerHealthUrl, procs, stop };
}
