import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './index';

describe('config', () => {
  it('has laptop defaults', () => {
    const config = loadConfig({});
    assert.equal(config.PORT, 8080);
    assert.equal(config.KMS_PROVIDER, 'local');
    assert.equal(config.ISOLATION_MODE, 'pooled');
    assert.match(config.DATABASE_URL, /^postgres:\/\/.*127\.0\.0\.1/);
    assert.equal(config.siweDomain, '127.0.0.1:8080');
    assert.deepEqual(config.siweOrigins, ['http://127.0.0.1:8080', 'http://localhost:8080']);
  });

  it('signs in on PUBLIC_URL alone when it is set, on the printed URL and localhost when not', () => {
    const hosted = loadConfig({ PUBLIC_URL: 'https://hearth.example/app' });
    assert.deepEqual(hosted.siweOrigins, ['https://hearth.example']);
    assert.equal(hosted.siweDomain, 'hearth.example');
    const anyInterface = loadConfig({ HOST: '0.0.0.0', PORT: '9090' });
    assert.deepEqual(anyInterface.siweOrigins, ['http://127.0.0.1:9090', 'http://localhost:9090']);
    assert.equal(loadConfig({ SIWE_DOMAIN: 'app.example' }).siweDomain, 'app.example');
  });

  it('names the variable when a value is bad', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty' }),
      (err: unknown) => err instanceof ConfigError && /PORT/.test(err.message),
    );
    assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL/);
    assert.throws(() => loadConfig({ ISOLATION_MODE: 'threads' }), /ISOLATION_MODE/);
    assert.throws(() => loadConfig({ RELAYER_PRIVATE_KEY: '0x12' }), /RELAYER_PRIVATE_KEY/);
  });

  it('stops a process with one line naming the variable', () => {
    const res = spawnSync(
      process.execPath,
      ['-e', `require(${JSON.stringify(require.resolve('./index'))}).loadConfigOrExit()`],
      {
        env: { PATH: process.env.PATH, REDIS_URL: 'http://nope' },
        encoding: 'utf8',
      },
    );
    assert.equal(res.status, 78);
    assert.equal(res.stderr.trim().split('\n').length, 1);
    assert.match(res.stderr, /REDIS_URL/);
  });

  it('scans grants from the deployment block of the contract it uses, or from the block it is told', () => {
    const home = mkdtempSync(join(tmpdir(), 'hearth-config-'));
    try {
      mkdirSync(join(home, 'deployments'));
      const deployed = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
      writeFileSync(
        join(home, 'deployments', '31337.json'),
        JSON.stringify({ chainId: 31337, dataPermissions: deployed, blockNumber: '42' }),
      );
      const fromFile = loadConfig({ HEARTH_HOME: home });
      assert.equal(fromFile.dataPermissionsAddress, deployed);
      assert.equal(fromFile.dataPermissionsFromBlock, 42n);
      // another contract than the file's: its deployment block is unknown, so from 0
      const other = '0x0000000000000000000000000000000000000001';
      assert.equal(
        loadConfig({ HEARTH_HOME: home, DATA_PERMISSIONS_ADDRESS: other }).dataPermissionsFromBlock,
        0n,
      );
      assert.equal(
        loadConfig({ HEARTH_HOME: home, DATA_PERMISSIONS_FROM_BLOCK: '7' }).dataPermissionsFromBlock,
        7n,
      );
      assert.throws(() => loadConfig({ DATA_PERMISSIONS_FROM_BLOCK: '-1' }), /DATA_PERMISSIONS_FROM_BLOCK/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('requires a master key in production with the local key manager', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production' }), /HEARTH_MASTER_KEY/);
  });

  it('stops on a master key that is not 32 bytes, naming the variable', () => {
    assert.throws(
      () => loadConfig({ HEARTH_MASTER_KEY: 'abc123' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        /^Invalid configuration: HEARTH_MASTER_KEY: must be 32 bytes/.test(err.message),
    );
    assert.throws(() => loadConfig({ HEARTH_MASTER_KEY: 'ab'.repeat(31) }), /HEARTH_MASTER_KEY/);
    assert.equal(loadConfig({ HEARTH_MASTER_KEY: 'ab'.repeat(32) }).HEARTH_MASTER_KEY, 'ab'.repeat(32));
    const base64 = Buffer.alloc(32, 7).toString('base64');
    assert.equal(loadConfig({ HEARTH_MASTER_KEY: base64 }).HEARTH_MASTER_KEY, base64);
  });

  it('reads each secret setting from <NAME>_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-config-secrets-'));
    try {
      const secret = (name: string, text: string): string => {
        const file = join(dir, name);
        writeFileSync(file, text);
        return file;
      };
      const config = loadConfig({
        DATABASE_URL_FILE: secret('db', 'postgres://hearth:s3cret@db:5432/hearth\n'),
        REDIS_URL_FILE: secret('redis', 'redis://:pw@cache:6379'),
        ADMIN_TOKEN_FILE: secret('admin', 'a-long-admin-token-value\r\n'),
        RELAYER_PRIVATE_KEY_FILE: secret('relayer', `0x${'11'.repeat(32)}\n`),
        AWS_ACCESS_KEY_ID_FILE: secret('akid', 'AKIAEXAMPLE'),
        AWS_SECRET_ACCESS_KEY_FILE: secret('sak', 'secret-key'),
        AWS_SESSION_TOKEN_FILE: secret('st', 'session-token'),
        OPENAI_API_KEY_FILE: secret('openai', 'sk-test'),
      });
      assert.equal(config.DATABASE_URL, 'postgres://hearth:s3cret@db:5432/hearth');
      assert.equal(config.REDIS_URL, 'redis://:pw@cache:6379');
      assert.equal(config.ADMIN_TOKEN, 'a-long-admin-token-value');
      assert.equal(config.relayerPrivateKey, `0x${'11'.repeat(32)}`);
      assert.equal(config.AWS_ACCESS_KEY_ID, 'AKIAEXAMPLE');
      assert.equal(config.AWS_SECRET_ACCESS_KEY, 'secret-key');
      assert.equal(config.AWS_SESSION_TOKEN, 'session-token');
      assert.equal(config.OPENAI_API_KEY, 'sk-test');
      // the file's value is validated like the variable's
      assert.throws(
        () => loadConfig({ DATABASE_URL_FILE: secret('bad', 'mysql://x\n') }),
        /DATABASE_URL: must be a postgres:\/\/ URL/,
      );
      assert.throws(
        () => loadConfig({ ADMIN_TOKEN_FILE: join(dir, 'missing') }),
        /ADMIN_TOKEN_FILE: cannot read .*missing \(ENOENT\)/,
      );
      assert.throws(
        () => loadConfig({ OPENAI_API_KEY_FILE: secret('empty', '\n') }),
        /OPENAI_API_KEY_FILE: .* is empty/,
      );
      assert.throws(
        () => loadConfig({ ADMIN_TOKEN: 'a-long-admin-token-value', ADMIN_TOKEN_FILE: secret('a2', 'x') }),
        /ADMIN_TOKEN: set ADMIN_TOKEN or ADMIN_TOKEN_FILE, not both/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
