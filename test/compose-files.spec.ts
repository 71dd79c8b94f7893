import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/*
 * The compose files and Dockerfiles as files: what `docker-compose config` makes of them (the one-host stack and
 * the production one), and what the Dockerfiles point at. The stack itself is built and run by the compose
 * tier (test/compose/stack.compose-spec.ts).
 */

// dist/test/compose-files.spec.js → the repo root
const ROOT = join(__dirname, '..', '..');
const hasDockerCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
// CI installs it (.ci/run); on a laptop without it these checks are skipped, never silently passed in CI.
const skip = hasDockerCompose ? false : 'docker-compose is not installed';
if (!hasDockerCompose) assert.notEqual(process.env.CI, 'true', 'docker-compose must be installed in CI');

interface Service {
  environment?: Record<string, string>;
  security_opt?: string[];
  cap_drop?: string[];
  read_only?: boolean;
  mem_limit?: string | number;
  cpus?: number | string;
  logging?: { driver: string; options: Record<string, string> };
  secrets?: unknown[];
  volumes?: unknown[];
  depends_on?: Record<string, unknown>;
  command?: string[];
}

function config(
  files: string[],
  env: Record<string, string>,
): { status: number; stderr: string; services: Record<string, Service> } {
  const args = [...files.flatMap((f) => ['-f', join(ROOT, f)]), 'config'];
  // Only what interpolation needs: never the caller's HEARTH_* or AWS_* variables.
  const res = spawnSync('docker-compose', args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
  });
  const services =
    res.status === 0 ? (parse(res.stdout) as { services: Record<string, Service> }).services : {};
  return { status: res.status ?? 1, stderr: res.stderr, services };
}

const PRODUCTION_ENV = {
  AWS_REGION: 'eu-west-1',
  CHAIN_RPC_URL: 'https://rpc.example.org',
  CHAIN_ID: '1480',
  DATA_PERMISSIONS_ADDRESS: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  HEARTH_PUBLIC_URL: 'https://hearth.example.org',
};
const PRODUCTION = ['docker-compose.yml', 'docker-compose.prod.yml'];

describe('compose files', { skip }, () => {
  it('the one-host stack: every service of the design, the dev chain and the embedded key manager', () => {
    // Without -f, compose reads docker-compose.yml and docker-compose.override.yml.
    const { status, stderr, services } = config(['docker-compose.yml', 'docker-compose.override.yml'], {
      HEARTH_MASTER_KEY: '00'.repeat(32),
    });
    assert.equal(status, 0, stderr);
    assert.deepEqual(Object.keys(services).sort(), [
      'chain',
      'gateway',
      'migrate',
      'postgres',
      'redis',
      'worker',
    ]);
    for (const name of ['migrate', 'gateway', 'worker']) {
      assert.equal(services[name].environment?.KMS_PROVIDER, 'local', name);
      assert.equal(services[name].environment?.CHAIN_RPC_URL, 'http://chain:8545', name);
    }
    for (const name of ['gateway', 'worker']) {
      assert.ok(
        JSON.stringify(services[name].volumes).includes('/var/lib/hearth'),
        `${name} shares the keystore volume`,
      );
      assert.deepEqual(Object.keys(services[name].depends_on ?? {}).sort(), ['chain', 'migrate', 'redis']);
    }
    assert.ok(services.redis.command?.includes('--appendonly'), 'Redis is durable');
    // The operation sandbox at the level a container allows (compose cannot unmask /proc), and no grant.
    assert.equal(services.worker.environment?.SANDBOX_MIN_LEVEL, 'process');
    for (const name of Object.keys(services)) assert.equal(services[name].security_opt, undefined, name);
  });

  it('stops with one line naming HEARTH_MASTER_KEY when it is unset', () => {
    const res = config(['docker-compose.yml', 'docker-compose.override.yml'], {});
    assert.notEqual(res.status, 0);
    assert.match(res.stderr, /set HEARTH_MASTER_KEY to 32 random bytes in hex/);
    assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
  });

  it('production: AWS KMS, secrets from files, no dev chain, limits, log rotation, the sandbox grants only', () => {
    const { status, stderr, services } = config(PRODUCTION, PRODUCTION_ENV);
    assert.equal(status, 0, stderr);
    assert.deepEqual(Object.keys(services).sort(), ['gateway', 'migrate', 'postgres', 'redis', 'worker']);
    for (const name of ['migrate', 'gateway', 'worker']) {
      const s = services[name];
      const env = s.environment ?? {};
      assert.equal(env.KMS_PROVIDER, 'aws', name);
      assert.equal(env.AWS_REGION, 'eu-west-1', name);
      assert.equal(env.HEARTH_MASTER_KEY, undefined, `${name}: no master key`);
      assert.equal(env.KEYSTORE_DIR, undefined, `${name}: no keystore`);
      assert.equal(env.DATABASE_URL, '', `${name}: the URL with its password is not in the environment`);
      assert.equal(env.DATABASE_URL_FILE, '/run/secrets/database_url');
      assert.equal(env.RELAYER_PRIVATE_KEY_FILE, '/run/secrets/relayer_private_key');
      assert.deepEqual(s.cap_drop, ['ALL'], `${name} drops every capability`);
      assert.equal(s.read_only, true, `${name}: read-only root`);
      assert.ok(s.security_opt?.includes('no-new-privileges:true'), name);
    }
    // No grant beyond no new privileges, for any service.
    assert.deepEqual(services.worker.security_opt, ['no-new-privileges:true']);
    for (const name of ['gateway', 'migrate'])
      assert.deepEqual(services[name].security_opt, ['no-new-privileges:true']);
    for (const [name, s] of Object.entries(services)) {
      assert.ok(s.mem_limit && s.cpus, `${name} has resource limits`);
      assert.equal(s.logging?.driver, 'json-file', name);
      assert.ok(s.logging?.options['max-size'] && s.logging.options['max-file'], `${name} rotates its logs`);
    }
    assert.equal(services.postgres.environment?.POSTGRES_PASSWORD_FILE, '/run/secrets/postgres_password');
    const redis = services.redis.command ?? [];
    assert.equal(redis[redis.indexOf('--appendonly') + 1], 'yes');
    assert.equal(redis[redis.indexOf('--appendfsync') + 1], 'everysec');
  });

  it('production stops with one line naming each required setting', () => {
    for (const name of Object.keys(PRODUCTION_ENV)) {
      const env: Record<string, string> = { ...PRODUCTION_ENV };
      delete env[name];
      const res = config(PRODUCTION, env);
      assert.notEqual(res.status, 0, name);
      assert.match(res.stderr, new RegExp(`set ${name} to`), name);
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    }
  });
});

describe('Dockerfiles', () => {
  it('the compose files build targets the Dockerfiles have', () => {
    for (const file of ['docker-compose.yml', 'docker-compose.override.yml']) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const [, dockerfile, target] of text.matchAll(/dockerfile: (\S+)(?:\n\s+target: (\S+))?/g)) {
        const source = readFileSync(join(ROOT, dockerfile), 'utf8');
        if (target)
          assert.match(
            source,
            new RegExp(`^FROM .* AS ${target}$`, 'm'),
            `${dockerfile} has target ${target}`,
          );
      }
    }
    const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    for (const target of ['gateway', 'worker', 'migrate'])
      assert.match(text, new RegExp(`target: ${target}\\n`));
    assert.match(text, /replicas: \d+/);
  });

  for (const file of ['docker/Dockerfile', 'docker/chain.Dockerfile']) {
    it(`${file}: base image as a build argument, COPY sources exist, non-root, entry points real`, () => {
      const text = readFileSync(join(ROOT, file), 'utf8');
      assert.match(text, /^ARG NODE_IMAGE=node:2[02]-bookworm-slim$/m, 'the official image is the default');
      for (const from of text.matchAll(/^FROM (\S+)/gm))
        assert.ok(from[1] === '${NODE_IMAGE}' || /^[a-z-]+$/.test(from[1]), `${file}: FROM ${from[1]}`);
      for (const line of text.split('\n')) {
        const copy = /^COPY (?!--from)(?:--\S+ )*(.+) (\S+)$/.exec(line);
        if (copy)
          for (const src of copy[1].split(' '))
            assert.ok(existsSync(join(ROOT, src)), `${file}: COPY source ${src} is missing`);
        const cmd = /^CMD \["node", "dist\/([^"]+)\.js"(?:, "[^"]*")*\]$/.exec(line);
        if (cmd) assert.ok(existsSync(join(ROOT, `${cmd[1]}.ts`)), `${file}: entry ${cmd[1]}.ts is missing`);
      }
      // Every image ends as the node user.
      const users = [...text.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
      assert.equal(users.at(-1), 'node');
      assert.match(text, /HEALTHCHECK/);
      // Never the whole lockfile's dev dependencies: each install is a subset or --omit=dev.
      for (const install of text.matchAll(/npm ci[^\n]*/g)) assert.doesNotMatch(install[0], /--include=dev/);
    });
  }
});
