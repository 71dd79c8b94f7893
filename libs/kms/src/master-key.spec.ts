import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KeyManagerError, loadMasterKey, loadMasterKeyWithSource } from './index';

describe('loadMasterKey', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-master-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads 32 bytes from hex or base64 in the environment value, which wins over the file', async () => {
    const key = randomBytes(32);
    const file = path.join(dir, 'ignored');
    assert.deepEqual(
      await loadMasterKey({ envValue: key.toString('hex'), filePath: file, createIfMissing: true }),
      key,
    );
    assert.deepEqual(await loadMasterKey({ envValue: `0x${key.toString('hex')}` }), key);
    assert.deepEqual(await loadMasterKey({ envValue: key.toString('base64') }), key);
    assert.deepEqual(await loadMasterKey({ envValue: key.toString('base64url') }), key);
    assert.equal(fs.existsSync(file), false);
  });

  it('rejects keys of the wrong size or form', async () => {
    for (const bad of [
      'abc',
      randomBytes(16).toString('hex'),
      randomBytes(33).toString('base64'),
      'z'.repeat(64),
    ]) {
      await assert.rejects(loadMasterKey({ envValue: bad }), KeyManagerError);
    }
  });

  it('reads a key file (with a trailing newline)', async () => {
    const key = randomBytes(32);
    const file = path.join(dir, 'master.key');
    fs.writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600 });
    assert.deepEqual(await loadMasterKeyWithSource({ filePath: file }), { key, source: 'file' });
  });

  it('generates a missing file with mode 0600 only when asked, then reuses it', async () => {
    const file = path.join(dir, 'nested', 'master.key');
    await assert.rejects(
      loadMasterKey({ filePath: file }),
      (err: unknown) => err instanceof KeyManagerError && err.code === 'kms_unavailable',
    );
    assert.equal(fs.existsSync(file), false);
    const first = await loadMasterKeyWithSource({ filePath: file, createIfMissing: true });
    assert.equal(first.source, 'generated');
    assert.equal(first.key.length, 32);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const again = await loadMasterKeyWithSource({ filePath: file, createIfMissing: true });
    assert.equal(again.source, 'file');
    assert.deepEqual(again.key, first.key);
  });

  it('fails clearly when nothing is configured', async () => {
    await assert.rejects(loadMasterKey({}), /HEARTH_MASTER_KEY/);
    await assert.rejects(loadMasterKey({ envValue: '   ' }), /HEARTH_MASTER_KEY/);
  });
});
