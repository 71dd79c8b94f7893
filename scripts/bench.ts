import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DIST } from './lib/processes';

/** `npm run bench [name…]`: runs the compiled benchmarks one after another (each prints its own figures). */
const dir = join(DIST, 'bench');
const wanted = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
let failed = 0;
for (const file of benches) {
  process.stdout.write(`\n=== ${file} ===\n`);
  const res = spawnSync(process.execPath, [join(dir, file)], { stdio: 'inherit', env: process.env });
  if (res.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
