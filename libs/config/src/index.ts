import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * The one reader of process.env. Every setting is validated at start; a bad value stops the process with a
 * line naming the variable. Defaults serve a laptop (embedded key manager, local Postgres/Redis, dev chain).
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 0x-prefixed 32-byte hex private key');
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte address');

/** Hardhat's well-known dev account #0: only ever a default for the local dev chain (chain id 31337). */
const DEV_RELAYER_PRIVATE_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HEARTH_HOME: z.string().default('.hearth'),

  HOST: z.string().default('127.0.0.1'),
  PORT: int(0, 65535).default(8080),
  PUBLIC_URL: z.string().url().optional(),
  SIWE_DOMAIN: z.string().optional(),
  SESSION_TTL_SECONDS: int(60, 30 * 86400).default(86400),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TRUST_PROXY: bool.default('false'),

  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default('postgres://postgres@127.0.0.1:5432/hearth'),
  DATABASE_POOL_SIZE: int(1, 200).default(10),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]+$/)
    .default('hearth'),

  CHAIN_RPC_URL: z.string().url().default('http://127.0.0.1:8545'),
  CHAIN_ID: int(1, 2 ** 31).default(31337),
  CHAIN_TIMEOUT_MS: int(100, 60000).default(3000),
  /**
   * The gateway's pre-check may allow at a head read this long ago, so a busy gateway reads the head once per
   * interval instead of once per operation. The worker checks again at a fresh head right before decrypting;
   * refusals are always confirmed at a fresh head. 0: every pre-check reads the head.
   */
  CHAIN_PRECHECK_HEAD_MAX_AGE_MS: int(0, 10_000).default(1000),
  DATA_PERMISSIONS_ADDRESS: address.optional(),
  /** The contract's deployment block: grant listings scan GrantAdded logs from here, not from block 0. */
  DATA_PERMISSIONS_FROM_BLOCK: int(0, Number.MAX_SAFE_INTEGER).optional(),
  RELAYER_PRIVATE_KEY: hex32.optional(),

  // The Data Portability Protocol's registries and gateway (docs/data-portability.md).
  DP_PERMISSIONS_ADDRESS: address.optional(),
  DP_GRANTEES_ADDRESS: address.optional(),
  DP_SERVERS_ADDRESS: address.optional(),
  DP_DATA_REGISTRY_ADDRESS: address.optional(),
  DP_GATEWAY_URL: z.string().url().optional(),
  DP_GATEWAY_TIMEOUT_MS: int(100, 60000).default(3000),
  /** Web3Signed `iat`/`exp` must lie within this many seconds of the server's clock. */
  DP_AUTH_SKEW_SECONDS: int(1, 3600).default(300),
  /** Web3Signed requests per minute per client IP on the Data Portability routes, counted before the signature. */
  DP_RATE_PER_MINUTE_PER_IP: int(1, 1_000_000).default(1200),
  /** Requests per minute of one verified signer on one server's Data Portability routes. */
  DP_RATE_PER_MINUTE: int(1, 1_000_000).default(600),
  /** How long a registry answer (a grant, a grantee) is reused: a revocation is seen after at most this. */
  DP_REGISTRY_CACHE_MS: int(0, 600_000).default(2000),
  DP_MAX_DOCUMENT_BYTES: int(1, 2 ** 31).default(8 * 1024 * 1024),
  /** Per-server host names: `<serverId><suffix>` serves that server's protocol routes at its root. */
  DP_HOST_SUFFIX: z
    .string()
    .regex(/^\.[a-z0-9.-]+(:[0-9]+)?$/, 'must start with a dot, e.g. .dp.example.com')
    .optional(),

  KMS_PROVIDER: z.enum(['local', 'aws']).default('local'),
  // Checked here too (the key manager parses it), so a short key stops every process at start with one line.
  HEARTH_MASTER_KEY: z
    .string()
    .regex(
      /^\s*((0x)?[0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)\s*$/,
      'must be 32 bytes as 64 hex characters or base64 (openssl rand -hex 32)',
    )
    .optional(),
  HEARTH_MASTER_KEY_FILE: z.string().optional(),
  KEYSTORE_DIR: z.string().optional(),
  AWS_REGION: z.string().default('us-east-1'),
  KMS_ENDPOINT: z.string().url().optional(),
  // Static AWS credentials: optional (the SDK's default chain applies); needed explicitly by isolated
  // children, whose scrubbed environment carries no credentials.
  AWS_ACCESS_KEY_ID: z.string().optional(),
  AWS_SECRET_ACCESS_KEY: z.string().optional(),
  AWS_SESSION_TOKEN: z.string().optional(),

  MAX_UPLOAD_BYTES: int(1, 2 ** 40).default(256 * 1024 * 1024),
  RESULT_TTL_SECONDS: int(1, 365 * 86400).default(86400),
  /** Owner events older than this are deleted (once dispatched to every webhook); a grant's one-time facts stay. */
  EVENTS_RETENTION_DAYS: int(1, 3650).default(30),
  /** Webhook delivery-log rows older than this are deleted. */
  WEBHOOK_DELIVERIES_RETENTION_DAYS: int(1, 3650).default(30),
  API_KEY_ROTATION_GRACE_SECONDS: int(0, 30 * 86400).default(86400),
  // Changes reach every replica's cache at once (a Postgres trigger's NOTIFY); this only bounds an entry's life.
  API_KEY_CACHE_TTL_MS: int(0, 3_600_000).default(30_000),
  DEFAULT_RATE_PER_MINUTE: int(1, 1_000_000).default(600),
  /** How long an access request stays pending before it lapses (7 days). */
  ACCESS_REQUEST_TTL_SECONDS: int(1, 365 * 86400).default(7 * 86400),
  /** Access-request filings and key claims per minute, per client IP and per app address (each counted apart). */
  ACCESS_REQUEST_RATE_PER_MINUTE: int(1, 1_000_000).default(30),
  /** Origins of the owner console allowed by CORS on owner routes (empty: same origin only). */
  CONSOLE_ORIGINS: csv.default(''),
  /** How long the gateway keeps a server's unwrapped metadata key in memory (one unwrap per server and TTL). */
  METADATA_KEY_CACHE_SECONDS: int(1, 3600).default(60),

  // Owner-side rate limits (per minute) and quotas: one tenant cannot exhaust the relayer, Redis or storage.
  AUTH_RATE_PER_MINUTE_PER_IP: int(1, 1_000_000).default(30),
  /** All clients together: bounds the live nonces in Redis (× 5 minutes) whatever the number of IPs. */
  AUTH_NONCES_PER_MINUTE: int(1, 10_000_000).default(6000),
  SESSION_RATE_PER_MINUTE: int(1, 1_000_000).default(600),
  QUOTA_SERVERS_PER_ACCOUNT: int(1, 1_000_000).default(10),
  QUOTA_COLLECTIVES_PER_ACCOUNT: int(0, 1_000_000).default(5),
  QUOTA_RELAYED_TX_PER_DAY: int(0, 1_000_000).default(100),
  QUOTA_STORAGE_BYTES_PER_SERVER: int(1, 2 ** 50).default(10 * 1024 * 1024 * 1024),

  ISOLATION_MODE: z.enum(['pooled', 'per-job']).default('pooled'),
  WORKER_CONCURRENCY: int(1, 256).default(4),
  // A warm child costs about 1 s of CPU to start (modules, NLP model): at 200 jobs that was ~4 ms per job.
  CHILD_MAX_JOBS: int(1, 1_000_000).default(2000),
  CHILD_MAX_RSS_MB: int(32, 65536).default(512),
  CHILD_MEMORY_CAP_MB: int(32, 65536).default(768),
  JOB_TIMEOUT_MS: int(100, 3_600_000).default(60000),
  /** The strongest confinement to try for children; the worker falls back to what the host allows. */
  SANDBOX_LEVEL: z.enum(['none', 'process', 'namespaced']).default('namespaced'),
  /** Below this the worker refuses to start. Unset: `namespaced` in production, `none` elsewhere. */
  SANDBOX_MIN_LEVEL: z.enum(['none', 'process', 'namespaced']).optional(),
  /** Address space (RLIMIT_AS) of a sandbox: V8 heap, native Buffers and mapped model files all count. */
  SANDBOX_MEMORY_MB: int(512, 1_048_576).default(2048),
  WORKER_HEALTH_PORT: int(0, 65535).default(8081),
  /** How long a job's lock lives without renewal: a killed worker's job is retried after about this. */
  JOB_LOCK_MS: int(500, 600000).default(30000),
  // Retries of an operation's job on an outage: exponential from JOB_BACKOFF_MS, capped, with jitter. The
  // defaults span about 6-10 minutes over 10 attempts, so an outage of minutes costs no operation.
  JOB_ATTEMPTS: int(1, 100).default(10),
  JOB_BACKOFF_MS: int(10, 600_000).default(2000),
  JOB_BACKOFF_MAX_MS: int(10, 3_600_000).default(120_000),
  /** A killed worker's job is given back this many times before it counts as failing (it has not really run). */
  JOB_MAX_STALLS: int(0, 1000).default(25),
  // The reconciler: Postgres decides, the queue delivers. Every RECONCILE_EVERY_MS one worker finds operations
  // not finished without a live job (older than RECONCILE_GRACE_MS) and queues them again, or ends them.
  RECONCILE_EVERY_MS: int(1000, 3_600_000).default(15_000),
  RECONCILE_GRACE_MS: int(0, 3_600_000).default(10_000),
  RECONCILE_MAX_REQUEUES: int(0, 1000).default(5),
  OPERATION_DEADLINE_MS: int(60_000, 30 * 86_400_000).default(6 * 3_600_000),

  // Owner webhooks. https is required when NODE_ENV=production; loopback receivers only with the override.
  WEBHOOK_ALLOW_LOOPBACK: bool.default('false'),
  /** Events in a row whose every attempt failed before a webhook is disabled. */
  WEBHOOK_MAX_FAILURES: int(1, 10_000).default(10),
  /** Attempts per (webhook, event), BullMQ's exponential backoff from WEBHOOK_BACKOFF_MS between them. */
  WEBHOOK_ATTEMPTS: int(1, 50).default(8),
  WEBHOOK_BACKOFF_MS: int(10, 3_600_000).default(5000),
  WEBHOOK_TIMEOUT_MS: int(100, 60_000).default(10_000),
  WEBHOOK_DISPATCH_EVERY_MS: int(100, 600_000).default(1000),
  WEBHOOK_CONCURRENCY: int(1, 256).default(8),

  OPENAI_BASE_URL: z.string().url().optional(),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_MODEL: z.string().default('gpt-4o-mini'),
  OPENAI_TRUSTED_BASE_URLS: csv.default(''),
  OPENAI_TIMEOUT_MS: int(100, 600000).default(60000),
  LLAMA_MODEL_PATH: z.string().optional(),
  // The llama.cpp default of 4 threads on 2 cores made 50 tokens take 115 s under load; 1 thread took seconds.
  LLAMA_THREADS: int(1, 256).optional(),
  LLAMA_CONTEXT_SIZE: int(256, 131_072).default(4096),
  // Below JOB_TIMEOUT_MS: a completion that times out fails the operation and keeps the child (and its model).
  LLAMA_TIMEOUT_MS: int(100, 3_600_000).default(45_000),
  LLM_ENGINE: z.enum(['llama', 'openai']).optional(),

  // `<NAME>_FILE`: the secret read from a file (a docker or Kubernetes secret mount) instead of the environment.
  DATABASE_URL_FILE: z.string().optional(),
  REDIS_URL_FILE: z.string().optional(),
  ADMIN_TOKEN_FILE: z.string().optional(),
  RELAYER_PRIVATE_KEY_FILE: z.string().optional(),
  AWS_ACCESS_KEY_ID_FILE: z.string().optional(),
  AWS_SECRET_ACCESS_KEY_FILE: z.string().optional(),
  AWS_SESSION_TOKEN_FILE: z.string().optional(),
  OPENAI_API_KEY_FILE: z.string().optional(),
});

/**
 * The secret settings that may come from a file named by `<NAME>_FILE`. HEARTH_MASTER_KEY_FILE is not among them:
 * the key manager reads that file itself (and generates it on a laptop).
 */
export const FILE_SECRETS = [
  'DATABASE_URL',
  'REDIS_URL',
  'ADMIN_TOKEN',
  'RELAYER_PRIVATE_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'OPENAI_API_KEY',
] as const;

/** Replaces each `<NAME>_FILE` by the file's contents (one trailing newline dropped) under NAME. */
function readSecretFiles(env: Record<string, string>): Record<string, string> {
  const out = { ...env };
  for (const name of FILE_SECRETS) {
    const file = env[`${name}_FILE`];
    if (file === undefined) continue;
    if (env[name] !== undefined)
      throw new ConfigError(`Invalid configuration: ${name}: set ${name} or ${name}_FILE, not both`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError(`Invalid configuration: ${name}_FILE: cannot read ${file} (${code})`);
    }
    const value = text.replace(/\r?\n$/, '');
    if (value === '') throw new ConfigError(`Invalid configuration: ${name}_FILE: ${file} is empty`);
    out[name] = value;
  }
  return out;
}

type RawConfig = z.infer<typeof schema>;

export interface HearthConfig extends RawConfig {
  /**
   * The origins (`scheme://host[:port]`) a SIWE message's `uri` may have: PUBLIC_URL's when set, else (a laptop)
   * the URL `npm start` prints, `http://HOST:PORT` (127.0.0.1 for 0.0.0.0), and `http://localhost:PORT`.
   */
  siweOrigins: string[];
  /** The SIWE domain (host[:port]) the nonce names: SIWE_DOMAIN, else the host of the first origin. */
  siweDomain: string;
  /** The relayer key; the dev key only on the dev chain. */
  relayerPrivateKey: `0x${string}` | undefined;
  /** DataPermissions address from env or from the dev chain's deployment file. */
  dataPermissionsAddress: `0x${string}` | undefined;
  /** First block of GrantAdded scans: env, else the deployment file's block for the same address, else 0. */
  dataPermissionsFromBlock: bigint;
  /** The Data Portability registries, from env or from the dev chain's deployment file (all four or none). */
  dataPortability:
    | {
        permissions: `0x${string}`;
        grantees: `0x${string}`;
        servers: `0x${string}`;
        dataRegistry: `0x${string}`;
      }
    | undefined;
  keystoreDir: string;
  masterKeyFile: string;
  deploymentsDir: string;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): HearthConfig {
  // Empty strings mean "unset", as compose files and shells often pass them.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''),
  );
  const parsed = schema.safeParse(readSecretFiles(cleaned));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`Invalid configuration: ${issue.path.join('.')}: ${issue.message}`);
  }
  const raw = parsed.data;
  const home = resolve(raw.HEARTH_HOME);
  const deploymentsDir = resolve(home, 'deployments');
  const relayer = raw.RELAYER_PRIVATE_KEY ?? (raw.CHAIN_ID === 31337 ? DEV_RELAYER_PRIVATE_KEY : undefined);
  if (
    raw.NODE_ENV === 'production' &&
    raw.KMS_PROVIDER === 'local' &&
    !raw.HEARTH_MASTER_KEY &&
    !raw.HEARTH_MASTER_KEY_FILE
  ) {
    throw new ConfigError(
      'Invalid configuration: HEARTH_MASTER_KEY: required in production with KMS_PROVIDER=local',
    );
  }
  if (raw.NODE_ENV === 'production' && raw.WEBHOOK_ALLOW_LOOPBACK) {
    throw new ConfigError(
      'Invalid configuration: WEBHOOK_ALLOW_LOOPBACK: only outside production (receivers on this host)',
    );
  }
  const deployment = readDeployment(deploymentsDir, raw.CHAIN_ID);
  const dataPermissionsAddress = raw.DATA_PERMISSIONS_ADDRESS ?? deployment?.dataPermissions;
  const deployedAt =
    deployment && dataPermissionsAddress?.toLowerCase() === deployment.dataPermissions.toLowerCase()
      ? deployment.blockNumber
      : undefined;
  const dp = {
    permissions: raw.DP_PERMISSIONS_ADDRESS ?? deployment?.dataPortability?.permissions,
    grantees: raw.DP_GRANTEES_ADDRESS ?? deployment?.dataPortability?.grantees,
    servers: raw.DP_SERVERS_ADDRESS ?? deployment?.dataPortability?.servers,
    dataRegistry: raw.DP_DATA_REGISTRY_ADDRESS ?? deployment?.dataPortability?.dataRegistry,
  };
  return {
    ...raw,
    dataPortability:
      dp.permissions && dp.grantees && dp.servers && dp.dataRegistry
        ? (dp as NonNullable<HearthConfig['dataPortability']>)
        : undefined,
    siweOrigins: siweOrigins(raw),
    siweDomain: raw.SIWE_DOMAIN ?? new URL(siweOrigins(raw)[0]).host,
    relayerPrivateKey: relayer as `0x${string}` | undefined,
    dataPermissionsAddress: dataPermissionsAddress as `0x${string}` | undefined,
    dataPermissionsFromBlock: BigInt(raw.DATA_PERMISSIONS_FROM_BLOCK ?? deployedAt ?? 0),
    keystoreDir: resolve(raw.KEYSTORE_DIR ?? resolve(home, 'keystore')),
    masterKeyFile: resolve(raw.HEARTH_MASTER_KEY_FILE ?? resolve(home, 'master.key')),
    deploymentsDir,
  };
}

function siweOrigins(raw: RawConfig): string[] {
  if (raw.PUBLIC_URL) return [new URL(raw.PUBLIC_URL).origin];
  const host = raw.HOST === '0.0.0.0' || raw.HOST === '::' ? '127.0.0.1' : raw.HOST;
  const printed = new URL(`http://${host.includes(':') ? `[${host}]` : host}:${raw.PORT}`).origin;
  const local = `http://localhost:${raw.PORT}`;
  return printed === local ? [printed] : [printed, local];
}

function readDeployment(
  dir: string,
  chainId: number,
):
  | {
      dataPermissions: string;
      blockNumber?: number;
      dataPortability?: { permissions: string; grantees: string; servers: string; dataRegistry: string };
    }
  | undefined {
  const file = resolve(dir, `${chainId}.json`);
  if (!existsSync(file)) return undefined;
  const parsed = z
    .object({
      dataPermissions: address,
      blockNumber: int(0, Number.MAX_SAFE_INTEGER).optional(),
      dataPortability: z
        .object({ permissions: address, grantees: address, servers: address, dataRegistry: address })
        .optional(),
    })
    .safeParse(JSON.parse(readFileSync(file, 'utf8')));
  return parsed.success ? parsed.data : undefined;
}

/** For process entry points: load or print the one-line reason and exit. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): HearthConfig {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

export const HEARTH_CONFIG = Symbol('HEARTH_CONFIG');

/**
 * Every variable the schema reads, in schema order, with its literal default as a string (undefined: the schema
 * has none; loadConfig may still compute one). Derived from the schema so docs/configuration.md can be checked.
 */
export function configVariables(): { name: string; default: string | undefined }[] {
  return Object.entries(schema.shape).map(([name, type]: [string, z.ZodTypeAny]) => ({
    name,
    default: type instanceof z.ZodDefault ? String((type._def as z.ZodDefaultDef).defaultValue()) : undefined,
  }));
}

export { HearthConfigModule } from './config.module';
