import { build, type Metafile } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';

/**
 * Builds @hearth/sdk's package outputs into packages/sdk/dist (run by `npm run build` after nest build):
 *   node.mjs    ESM for Node 20+, dependencies left to the package manager, node:crypto for the envelope;
 *   browser.mjs one self-contained ESM file for browsers (WebCrypto + @noble), refused if any Node module ends up in it;
 *   types/      declarations (tsc), with `SDK_TYPES=1` (`npm run sdk:build`): tsc doubles the build's time.
 */
export const SDK_ROOT = join(__dirname, '..', '..', '..', '..', 'packages', 'sdk');
export const BROWSER_BUNDLE = join(SDK_ROOT, 'dist', 'browser.mjs');

function nodeModulesIn(meta: Metafile): string[] {
  const out = new Set<string>();
  for (const input of Object.values(meta.inputs)) {
    for (const imp of input.imports) {
      if (imp.path.startsWith('node:') || imp.external) out.add(imp.path);
    }
  }
  return [...out];
}

export async function bundleSdk(): Promise<void> {
  const src = join(SDK_ROOT, 'src');
  await build({
    entryPoints: [join(src, 'node.ts')],
    outfile: join(SDK_ROOT, 'dist', 'node.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
  const browser = await build({
    entryPoints: [join(src, 'index.ts')],
    outfile: BROWSER_BUNDLE,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  const leaked = nodeModulesIn(browser.metafile);
  if (leaked.length) throw new Error(`the browser bundle imports Node-only modules: ${leaked.join(', ')}`);
  if (process.env.SDK_TYPES === '1') {
    const tsc = require.resolve('typescript/bin/tsc');
    const res = spawnSync(process.execPath, [tsc, '-p', join(SDK_ROOT, 'tsconfig.json')], {
      stdio: 'inherit',
    });
    if (res.status !== 0) throw new Error('tsc could not emit the SDK declarations');
  }
  const size = (browser.metafile.outputs[relative(process.cwd(), BROWSER_BUNDLE)]?.bytes ?? 0) / 1024;
  if (process.env.SDK_BUNDLE_QUIET !== '1') {
    process.stdout.write(
      `@hearth/sdk: dist/node.mjs, dist/browser.mjs (${size.toFixed(0)} KiB)${process.env.SDK_TYPES === '1' ? ', dist/types' : ''}\n`,
    );
  }
}

if (require.main === module) {
  bundleSdk().catch((err: unknown) => {
    process.stderr.write(`SDK bundle failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
