import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KeyManagerError, loadMasterKey, loadMasterKeyWithSource, parseMasterKey } from './index';

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

  it('never leaves a half-written key file when the process dies while generating it', () => {
    // A first `npm start` that dies early (a missing database, Ctrl-C) must not leave an empty key file that
    // blocks every later start.
    const script = `const { loadMasterKeyWithSource } = require(${JSON.stringify(require.resolve('./master-key'))});
      void loadMasterKeyWithSource({ filePath: process.argv[1], createIfMissing: true });
      let turns = Number(process.argv[2]);
      const spin = () => (turns-- > 0 ? setImmediate(spin) : process.exit(0));
      spin();`;
    for (let turns = 0; turns < 10; turns++) {
      const file = path.join(dir, `dies-${turns}`, 'master.key');
      execFileSync(process.execPath, ['-e', script, file, String(turns)]);
      if (fs.existsSync(file)) assert.equal(parseMasterKey(fs.readFileSync(file, 'utf8'), file).length, 32);
      const left = fs.existsSync(path.dirname(file)) ? fs.readdirSync(path.dirname(file)) : [];
      assert.ok(
        left.every((name) => name === 'master.key' || name.endsWith('.tmp')),
        left.join(),
      );
    }
  });

  it('concurrent starts agree on one whole key', async () => {
    const file = path.join(dir, 'race', 'master.key');
    const loaded = await Promise.all(
      Array.from({ length: 16 }, () => loadMasterKeyWithSource({ filePath: file, createIfMissing: true })),
    );
    assert.equal(loaded.filter((l) => l.source === 'generated').length, 1);
    for (const l of loaded) assert.deepEqual(l.key, loaded[0].key);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['master.key']);
  });

  it('fails clearly when nothing is configured', async () => {
    await assert.rejects(loadMasterKey({}), /HEARTH_MASTER_KEY/);
    await assert.rejects(loadMasterKey({ envValue: '   ' }), /HEARTH_MASTER_KEY/);
  });
});
