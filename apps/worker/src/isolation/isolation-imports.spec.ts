import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

// The sources beside the compiled tree: dist/apps/worker/src/isolation → apps/worker/src/isolation.
const ISOLATION = resolve(__dirname, '../../../../../apps/worker/src/isolation');
// Static imports and re-exports (with or without bindings), dynamic imports, requires and require.resolve.
const IMPORT =
  /(?:import|export)\s(?:[^'"]*?\sfrom\s)?\s*['"](\.[^'"]*)['"]|(?:import|require(?:\.resolve)?)\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

describe('isolation layer', () => {
  it('imports nothing of the worker outside isolation/ (tasks come from the entry script)', () => {
    assert.ok(existsSync(ISOLATION), `sources not found at ${ISOLATION}`);
    const files = sources(ISOLATION);
    assert.ok(files.some((f) => f.endsWith(`${sep}child-runtime.ts`)));
    const outside: string[] = [];
    for (const file of files) {
      for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
        const target = resolve(dirname(file), match[1] ?? match[2]);
        if (!target.startsWith(ISOLATION + sep))
          outside.push(`${relative(ISOLATION, file)} → ${match[1] ?? match[2]}`);
      }
    }
    assert.deepEqual(outside, []);
  });
});
