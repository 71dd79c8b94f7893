import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ConfigError, loadConfig } from './index';

describe('config', () => {
  it('has laptop defaults', () => {
    const config = loadConfig({});
    assert.equal(config.PORT, 8080);
    assert.equal(config.KMS_PROVIDER, 'local');
    assert.equal(config.ISOLATION_MODE, 'pooled');
    assert.match(config.DATABASE_URL, /^postgres:\/\/.*127\.0\.0\.1/);
    assert.equal(config.siweDomain, 'localhost:8080');
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

  it('requires a master key in production with the local key manager', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production' }), /HEARTH_MASTER_KEY/);
  });
});
