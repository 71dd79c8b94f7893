import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readTar, tarEnd, tarEntry, tarHeader } from './tar';

describe('tar writer', () => {
  const mtime = new Date('2026-01-02T03:04:05Z');

  it('writes archives that the system tar lists and extracts byte for byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-tar-'));
    try {
      const a = Buffer.from('hello\n');
      const b = Buffer.alloc(1024 + 3, 0x61);
      const empty = Buffer.alloc(0);
      const archive = Buffer.concat([
        ...tarEntry('manifest.json', a, mtime),
        ...tarEntry('files/fil_1', b, mtime),
        ...tarEntry('files/empty', empty, mtime),
        tarEnd(),
      ]);
      assert.equal(archive.length % 512, 0);
      writeFileSync(join(dir, 'a.tar'), archive);
      const listed = execFileSync('tar', ['-tf', join(dir, 'a.tar')], { encoding: 'utf8' })
        .trim()
        .split('\n');
      assert.deepEqual(listed, ['manifest.json', 'files/fil_1', 'files/empty']);
      execFileSync('tar', ['-xf', join(dir, 'a.tar'), '-C', dir]);
      assert.deepEqual(readFileSync(join(dir, 'files', 'fil_1')), b);
      assert.deepEqual(
        readTar(archive).map((e) => [e.name, e.size]),
        [
          ['manifest.json', 6],
          ['files/fil_1', 1027],
          ['files/empty', 0],
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('encodes sizes past 8 GiB in base-256, and refuses names it cannot write', () => {
    const big = 9 * 1024 ** 3;
    const header = tarHeader('files/huge', big, mtime);
    assert.equal(header[124], 0x80);
    let v = 0n;
    for (let i = 125; i < 136; i++) v = (v << 8n) | BigInt(header[i]);
    assert.equal(Number(v), big);
    assert.equal(tarHeader('files/small', 8 ** 11 - 1, mtime)[124], 0x37, 'octal up to 8 GiB - 1');
    for (const name of ['a b', 'caf\u00e9', 'x'.repeat(101), '']) {
      assert.throws(() => tarHeader(name, 1, mtime), RangeError, name);
    }
    assert.throws(() => readTar(Buffer.concat(tarEntry('x', Buffer.from('abc'), mtime))), /end-of-archive/);
  });
});
