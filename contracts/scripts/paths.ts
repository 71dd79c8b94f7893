import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The repository root: the nearest ancestor whose package.json is Hearth's (works from src and dist). */
export function repoRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      const parsed = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown };
      if (parsed.name === 'hearth') return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the Hearth repository root above ${from}`);
    dir = parent;
  }
}
