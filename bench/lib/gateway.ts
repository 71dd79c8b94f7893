import { freePort, type Managed, startNode } from '../../scripts/lib/processes';

/**
 * The gateway as a child process of a bench (its CPU and RSS are then its own), on a free port, silent, with the
 * bench's database and home; `env` adds or overrides settings.
 */
export async function startBenchGateway(opts: {
  databaseUrl: string;
  home: string;
  env?: Record<string, string>;
}): Promise<{ gateway: Managed; url: string; port: number }> {
  const port = await freePort();
  const gateway = startNode(
    'gateway',
    'apps/gateway/src/main.js',
    {
      ...process.env,
      NODE_ENV: 'development',
      LOG_LEVEL: 'silent',
      DATABASE_URL: opts.databaseUrl,
      HEARTH_HOME: opts.home,
      PORT: String(port),
      HOST: '127.0.0.1',
      QUEUE_PREFIX: `hearth-bench-${process.pid}`,
      // A bench is one client hammering from one IP and account: owner rate limits would measure themselves.
      AUTH_RATE_PER_MINUTE_PER_IP: '1000000',
      AUTH_NONCES_PER_MINUTE: '10000000',
      SESSION_RATE_PER_MINUTE: '1000000',
      QUOTA_STORAGE_BYTES_PER_SERVER: String(2 ** 50),
      ...opts.env,
    },
    true,
  );
  return { gateway, url: `http://127.0.0.1:${port}`, port };
}
