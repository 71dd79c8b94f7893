import { build } from 'esbuild';
import { join } from 'node:path';
import { BROWSER_BUNDLE } from '../../packages/sdk/scripts/bundle';

/** Debian's Chromium: browser tests and benches never download one. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * `contents` (an ES module resolved from the repository root; `@hearth/sdk` is its built browser bundle) bundled
 * into one script for a page.
 */
export async function browserBundle(contents: string, loader: 'js' | 'ts' = 'js'): Promise<string> {
  const out = await build({
    stdin: { contents, resolveDir: join(__dirname, '..', '..', '..'), loader },
    alias: { '@hearth/sdk': BROWSER_BUNDLE },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0].text;
}
