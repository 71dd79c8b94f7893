import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { HearthOwner } from '@hearth/sdk';
import { BROWSER_BUNDLE } from '../packages/sdk/scripts/bundle';
import { type RunningGateway, type RunningWorker, startGateway, startWorker } from './support/apps';
import { browserBundle, CHROMIUM } from './support/browser-bundle';

/**
 * The page's own script: the SDK's built browser bundle (as an app would ship it) plus a viem local account,
 * bundled for the browser. Everything Hearth-specific happens in the page.
 */
async function pageScript(): Promise<string> {
  const entry = `
    import * as sdk from ${JSON.stringify(BROWSER_BUNDLE)};
    import { privateKeyToAccount } from 'viem/accounts';
    window.hearthSdk = sdk;
    window.privateKeyToAccount = privateKeyToAccount;
  `;
  return browserBundle(entry);
}

interface PageOutcome {
  aead: string;
  serverId: string;
  fileId: string;
  encryption: string;
  progress: number[];
  status: string;
  signer: string;
  checked: string[];
  tamperedReason: string;
}

describe('@hearth/sdk browser build in Chromium', () => {
  let gw: RunningGateway;
  let worker: RunningWorker;
  let browser: Browser;

  before(async () => {
    gw = await startGateway();
    worker = await startWorker();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await worker.close();
    await gw.close();
  });

  it('the browser bundle is self-contained and imports no Node module', () => {
    assert.ok(existsSync(BROWSER_BUNDLE), 'npm run build writes packages/sdk/dist/browser.mjs');
    const code = readFileSync(BROWSER_BUNDLE, 'utf8');
    assert.doesNotMatch(code, /from\s*["']node:|require\(["'](node:)?(crypto|stream|fs)["']\)/);
    assert.doesNotMatch(code, /^import .* from ["'][^./]/m, 'no bare imports left');
  });

  it('signs in with a viem account, uploads client-side encrypted, runs an operation and checks its receipt', async () => {
    const script = await pageScript();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Served at the gateway's own origin, so the page calls the API same-origin.
    await page.route(`${gw.url}/__sdk_test/**`, (route) => {
      const url = route.request().url();
      if (url.endsWith('/page.js')) return route.fulfill({ contentType: 'text/javascript', body: script });
      return route.fulfill({
        contentType: 'text/html',
        body: '<!doctype html><script type="module" src="/__sdk_test/page.js"></script>',
      });
    });
    await page.goto(`${gw.url}/__sdk_test/index.html`);
    await page.waitForFunction(() => 'hearthSdk' in globalThis);

    const ownerKey = generatePrivateKey();
    const appAddress = privateKeyToAccount(generatePrivateKey()).address;
    const outcome = await page.evaluate(
      async ({ ownerKey, appAddress, text }) => {
        type Sdk = typeof import('@hearth/sdk');
        const w = globalThis as unknown as {
          location: { origin: string };
          hearthSdk: Sdk;
          privateKeyToAccount: typeof import('viem/accounts').privateKeyToAccount;
        };
        const { HearthOwner, HearthApp, getDefaultAead, ReceiptVerificationError } = w.hearthSdk;
        const baseUrl = w.location.origin;
        const owner = await HearthOwner.signIn(w.privateKeyToAccount(ownerKey), { baseUrl });
        const server = await owner.personalServer();
        const progress: number[] = [];
        const file = await owner.upload(server.id, new Blob([text], { type: 'text/plain' }), {
          name: 'diary.txt',
          clientSide: true,
          envelope: { chunkSize: 100 },
          onProgress: (p) => progress.push(p.bytes),
        });
        const key = await owner.createApiKey(server.id, { name: 'browser app', appAddress });
        const { grantId } = await owner.grant(server.id, {
          appAddress,
          operations: ['summarize'],
          fileIds: [file.id],
        });
        const app = new HearthApp({ apiKey: key.key, baseUrl });
        const op = await app.run('summarize', { fileIds: [file.id], grantId, parameters: { sentences: 1 } });
        const verified = await app.verifyReceipt(op);
        let tamperedReason = '';
        try {
          await app.verifyReceipt({ ...op, result: { summary: 'not what the server said' } });
        } catch (err) {
          if (err instanceof ReceiptVerificationError) tamperedReason = err.reason;
        }
        return {
          aead: getDefaultAead().name,
          serverId: server.id,
          fileId: file.id,
          encryption: file.encryption,
          progress,
          status: op.status,
          signer: verified.signer,
          checked: verified.checked,
          tamperedReason,
        } satisfies PageOutcome;
      },
      {
        ownerKey,
        appAddress,
        text: 'Monday I walked by the river and felt calm. Tuesday the meeting ran long and I was tired. '.repeat(
          5,
        ),
      },
    );
    await page.close();
    assert.deepEqual(errors, []);
    assert.equal(outcome.aead, 'webcrypto');
    assert.equal(outcome.encryption, 'client');
    assert.ok(outcome.progress.length >= 1);
    assert.equal(outcome.status, 'succeeded');
    assert.deepEqual(outcome.checked, [
      'signature',
      'server',
      'operationId',
      'app',
      'outputHash',
      'parametersHash',
    ]);
    assert.equal(outcome.tamperedReason, 'outputHash');

    // From outside the browser: the file is the envelope the page made, and the signer is the server's address.
    const owner = await HearthOwner.signIn(privateKeyToAccount(ownerKey), { baseUrl: gw.url });
    const server = await owner.getServer(outcome.serverId);
    assert.equal(outcome.signer, server.address);
    assert.equal((await owner.getFile(server.id, outcome.fileId)).encryption, 'client');
  });
});
