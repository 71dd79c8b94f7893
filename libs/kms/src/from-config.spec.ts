import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type KeyManagerConfig, keyManagerFromConfig, keyManagerOptionsFromConfig } from './index';

describe('key manager from config', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-kms-config-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const local = (over: Partial<KeyManagerConfig> = {}): KeyManagerConfig => ({
    KMS_PROVIDER: 'local',
    NODE_ENV: 'development',
    masterKeyFile: path.join(dir, `${randomBytes(4).toString('hex')}.key`),
    keystoreDir: path.join(dir, 'keystore'),
    AWS_REGION: 'us-east-1',
    ...over,
  });
  const aws = (over: Partial<KeyManagerConfig> = {}): KeyManagerConfig =>
    local({ KMS_PROVIDER: 'aws', AWS_REGION: 'eu-west-1', KMS_ENDPOINT: 'http://127.0.0.1:1', ...over });

  it('local: the master key from the environment and the keystore directory', async () => {
    const key = randomBytes(32);
    const options = await keyManagerOptionsFromConfig(local({ HEARTH_MASTER_KEY: key.toString('hex') }));
    assert.ok(options.provider === 'local');
    assert.deepEqual(options.masterKey, key);
    assert.equal(options.keystoreDir, path.join(dir, 'keystore'));
  });

  it('local: a missing key file is generated on a laptop, never in production', async () => {
    const laptop = local();
    await keyManagerOptionsFromConfig(laptop);
    assert.ok(fs.existsSync(laptop.masterKeyFile));
    const production = local({ NODE_ENV: 'production' });
    await assert.rejects(keyManagerOptionsFromConfig(production), /does not exist/);
    assert.equal(fs.existsSync(production.masterKeyFile), false);
  });

  it('aws: static credentials only when both halves are configured, else the SDK default chain', async () => {
    const full = await keyManagerOptionsFromConfig(
      aws({ AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' }),
    );
    assert.deepEqual(full, {
      provider: 'aws',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' },
    });
    const half = await keyManagerOptionsFromConfig(aws({ AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE' }));
    assert.ok(half.provider === 'aws');
    assert.equal(half.credentials, undefined);
  });

  it('builds the key manager those options name', async () => {
    const keys = await keyManagerFromConfig(local({ HEARTH_MASTER_KEY: randomBytes(32).toString('hex') }));
    assert.equal(keys.provider, 'local');
    const { keyRef } = await keys.createTenantKey('srv_fromconfig');
    const { plaintext, wrapped } = await keys.generateDataKey(keyRef, { purpose: 'test' });
    assert.deepEqual(await keys.unwrapDataKey(keyRef, wrapped, { purpose: 'test' }), plaintext);
    assert.equal((await keyManagerFromConfig(aws())).provider, 'aws');
  });
});
