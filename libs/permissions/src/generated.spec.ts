import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expectedGeneratedFiles } from '../../../contracts/scripts/build';

describe('generated contract files', () => {
  it('are up to date with contracts/*.sol (re-compiled in memory)', async () => {
    const files = await expectedGeneratedFiles();
    assert.equal(Object.keys(files).length, 7);
    for (const [file, expected] of Object.entries(files)) {
      // The committed sources, not dist: dist only has the compiled .js.
      const committed = readFileSync(file, 'utf8');
      assert.ok(
        committed === expected,
        `${path.basename(file)} is stale: run node dist/contracts/scripts/build.js`,
      );
    }
  });
});
