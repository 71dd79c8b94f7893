import { build } from 'esbuild';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { BROWSER_BUNDLE } from '../../packages/sdk/scripts/bundle';

/** Debian's Chromium: the browser benches never download one. */
export const CHROMIUM = '/usr/bin/chromium';
/** Never contacted: every request of a bench page is answered by its route. */
const ORIGIN = 'http://localhost:9';

/** `contents` (an ES module, resolved from the repository root, `@hearth/sdk` being its browser build) bundled. */
export async function benchScript(contents: string, loader: 'js' | 'ts' = 'js'): Promise<string> {
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

/** Opens a blank page on a made-up origin that runs `script`, once `ready` (a global it sets) exists. */
export async function openBenchPage(page: Page, script: string, ready: string): Promise<void> {
  await page.route(`${ORIGIN}/**`, (route) =>
    route.request().url().endsWith('/bench.js')
      ? route.fulfill({ contentType: 'text/javascript', body: script })
      : route.fulfill({
          contentType: 'text/html',
          body: '<!doctype html><script type="module" src="/bench.js"></script>',
        }),
  );
  await page.goto(`${ORIGIN}/`);
  await page.waitForFunction(`${JSON.stringify(ready)} in globalThis`);
}
