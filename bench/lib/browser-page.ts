import type { Page } from 'playwright-core';

export { browserBundle as benchScript, CHROMIUM } from '../../test/support/browser-bundle';

/** Never contacted: every request of a bench page is answered by its route. */
const ORIGIN = 'http://localhost:9';

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
