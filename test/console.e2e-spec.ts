import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { HearthApp, HearthOwner, isHearthProblem } from '@hearth/sdk';
import { CONSOLE_CSP } from '../apps/gateway/src/console/console-static';
import { readTar } from '../apps/gateway/src/export/tar';
import { type RunningGateway, type RunningWorker, startGateway, startWorker } from './support/apps';
import { installTestWallet, type TestWallet } from './support/browser-wallet';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(__dirname, '..', '..', 'dist', 'test-output', 'console');
const UPLOAD_LIMIT = 1024 * 1024;
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const DIARY =
  'Monday I walked by the river and felt calm. Tuesday the meeting ran long and I was tired. ' +
  'Wednesday I cooked dinner for friends and we laughed a lot. Thursday it rained all day.';

interface Harness {
  context: BrowserContext;
  page: Page;
  wallet: TestWallet;
  /** Page errors and CSP violations seen so far: the console must cause none. */
  problems: string[];
}

describe('web console in Chromium', () => {
  let gw: RunningGateway;
  let worker: RunningWorker;
  let browser: Browser;
  /** The gateway's own database, to tamper with what it stored. */
  let db: Client;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    process.stdout.write(`# console screenshots: ${SHOTS}\n`);
    gw = await startGateway({ MAX_UPLOAD_BYTES: String(UPLOAD_LIMIT) });
    worker = await startWorker();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    db = new Client({ connectionString: gw.config.DATABASE_URL });
    await db.connect();
  });
  after(async () => {
    await db?.end();
    await browser?.close();
    await worker?.close();
    await gw?.close();
  });

  async function open(options: { chainId?: number; width?: number } = {}): Promise<Harness> {
    const context = await browser.newContext({ viewport: { width: options.width ?? 1200, height: 900 } });
    const wallet: TestWallet = {
      account: privateKeyToAccount(generatePrivateKey()),
      chainId: options.chainId ?? gw.config.CHAIN_ID,
      reject: false,
      calls: [],
    };
    await installTestWallet(context, wallet);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (/Content[- ]Security[- ]Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
    });
    return { context, page, wallet, problems };
  }

  /** axe-core in the page (evaluated over CDP, so the page's CSP stays as strict as it is for people). */
  async function checkAccessibility(page: Page, name: string): Promise<void> {
    await page.evaluate(AXE);
    const violations = await page.evaluate(async () => {
      const axe = (
        globalThis as unknown as {
          axe: {
            run(): Promise<{
              violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown }> }>;
            }>;
          };
        }
      ).axe;
      const result = await axe.run();
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}) at ${JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))}`);
    });
    assert.deepEqual(violations, [], `axe on ${name}`);
  }

  /** The names in the page origin's private file system (where the console spools an envelope it uploads). */
  async function spoolFiles(page: Page): Promise<string[]> {
    return page.evaluate<string[]>(`(async () => {
      const names = [];
      for await (const name of (await navigator.storage.getDirectory()).keys()) names.push(name);
      return names;
    })()`);
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }

  /** The session as the page keeps it (sessionStorage), or null. */
  async function pageSession(page: Page): Promise<{ token: string } | null> {
    const raw = await page.evaluate<string | null>("sessionStorage.getItem('hearth.session')");
    return raw ? (JSON.parse(raw) as { token: string }) : null;
  }

  async function signIn(h: Harness): Promise<void> {
    await h.page.goto(`${gw.url}/`);
    await h.page.waitForURL(/\/sign-in/);
    await h.page.getByRole('button', { name: 'Sign in with Test Wallet' }).click();
    await h.page.getByRole('heading', { level: 1, name: 'Your servers' }).waitFor();
  }

  it('serves the console with its CSP and cache headers, never shadowing the API', async () => {
    const index = await fetch(`${gw.url}/`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-security-policy'), CONSOLE_CSP);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    const html = await index.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(html, /https?:\/\//, 'nothing from another origin');
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, 'the entry script is a hashed asset');
    const js = await fetch(`${gw.url}${asset}`);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    const deep = await fetch(`${gw.url}/servers/srv_x/files`);
    assert.equal(deep.status, 200);
    assert.equal(await deep.text(), html);
    const api = await fetch(`${gw.url}/v1/nothing-here`);
    assert.equal(api.status, 404);
    assert.match(api.headers.get('content-type') ?? '', /problem\+json/);
    assert.equal((await fetch(`${gw.url}/assets/missing-1234.js`)).status, 404);
    assert.equal((await fetch(`${gw.url}/health/live`)).status, 200);
    assert.match((await fetch(`${gw.url}/docs-json`)).headers.get('content-type') ?? '', /json/);
  });

  it('the whole path: sign in, encrypt and read back, grant, run, verified log, revoke, denial, delete', async () => {
    const h = await open();
    const { page } = h;
    await page.goto(`${gw.url}/`);
    await page.waitForURL(/\/sign-in/);
    await page.getByRole('button', { name: 'Sign in with Test Wallet' }).waitFor();
    await checkAccessibility(page, 'sign-in');
    await shot(page, '01-sign-in');
    await page.getByRole('button', { name: 'Sign in with Test Wallet' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your servers' }).waitFor();
    const token = (await pageSession(page))?.token ?? '';
    const owner = new HearthOwner({ baseUrl: gw.url, token });
    const server = await owner.personalServer();
    await page.getByText(server.publicKey).waitFor();
    await checkAccessibility(page, 'servers');
    await shot(page, '02-servers');

    // Files: dropped onto the page, encrypted in the browser (version 2 envelope, with the owner slot).
    await page.getByRole('link', { name: 'Personal server' }).click();
    await page.getByRole('heading', { level: 1, name: 'Files' }).waitFor();
    await page.evaluate(`(() => {
      const data = new DataTransfer();
      data.items.add(new File([${JSON.stringify(DIARY)}], 'diary.txt', { type: 'text/plain' }));
      document.querySelector('.dropzone').dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    })()`);
    await page.getByText('Uploaded diary.txt').waitFor();
    assert.deepEqual(await spoolFiles(page), [], 'the spooled envelope goes once it was sent');
    const [file] = (await owner.listFiles(server.id)).items;
    assert.equal(file.name, 'diary.txt');
    assert.equal(file.encryption, 'client');
    const stored = Buffer.from(await (await owner.download(server.id, file.id)).arrayBuffer());
    assert.equal(stored.subarray(0, 5).toString('hex'), '4845563102', 'an HEV1 version 2 envelope');
    assert.equal(stored.indexOf(Buffer.from('river')), -1, 'no plaintext leaves the browser');
    await page.getByRole('button', { name: 'Open diary.txt' }).click();
    await page.getByTestId('file-preview').getByText('walked by the river').waitFor();
    await checkAccessibility(page, 'files');
    await shot(page, '03-files');

    // An API key from the console (secret shown once), then a grant signed in the wallet.
    const app = privateKeyToAccount(generatePrivateKey());
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('Name').fill('diary insights');
    await page.getByLabel('App address').fill(app.address);
    await page.getByLabel('Requests per minute').fill('100');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('api-key-secret').textContent()) ?? '';
    assert.match(secret, /^hth_live_/);
    await page.getByRole('cell', { name: /^diary insights key_/ }).waitFor();
    await checkAccessibility(page, 'keys');
    await shot(page, '04-keys');

    await page.getByRole('link', { name: 'Grants' }).click();
    await page.getByLabel('App address').fill(app.address);
    await page.getByRole('checkbox', { name: /summarize/ }).check();
    await page.getByRole('checkbox', { name: /diary\.txt/ }).check();
    await page.getByRole('button', { name: 'Sign and grant' }).click();
    const granted = await page.getByText(/Grant \d+ is on-chain/).textContent();
    const grantId = /Grant (\d+)/.exec(granted ?? '')?.[1] ?? '';
    await page.locator(`tr[data-grant="${grantId}"]`).getByText('active').waitFor();
    assert.ok(h.wallet.calls.includes('eth_signTypedData_v4'));
    await checkAccessibility(page, 'grants');
    await shot(page, '05-grants');

    // The app runs an operation with the SDK, in Node; the log shows it with a receipt verified in the browser.
    const hearthApp = new HearthApp({ apiKey: secret, baseUrl: gw.url });
    const op = await hearthApp.run('summarize', {
      fileIds: [file.id],
      grantId,
      parameters: { sentences: 1 },
    });
    assert.equal(op.status, 'succeeded');
    // A second run whose log row no longer carries its receipt's digest (changed in the database behind the
    // gateway's back): the browser marks that row ✗ with the reason, and the untouched row stays ✓.
    const tampered = await hearthApp.run('summarize', {
      fileIds: [file.id],
      grantId,
      parameters: { sentences: 1 },
    });
    assert.equal(tampered.status, 'succeeded');
    const changed = await db.query('UPDATE access_log SET receipt_hash = $1 WHERE operation_id = $2', [
      `0x${'ab'.repeat(32)}`,
      tampered.id,
    ]);
    assert.equal(changed.rowCount, 1);
    await page.getByRole('link', { name: 'Access log' }).click();
    const ran = page.locator('tr[data-operation="summarize"][data-outcome="succeeded"]');
    await ran.locator('td[data-receipt="invalid"]').getByText('✗ digest differs from the log').waitFor();
    await ran.locator('td[data-receipt="valid"]').getByText('✓ verified').waitFor();
    assert.equal(await ran.locator('td[data-receipt="valid"]').count(), 1);
    assert.equal(await ran.locator('td[data-receipt="invalid"]').count(), 1);
    await checkAccessibility(page, 'access-log');
    await shot(page, '06-access-log');

    // Revoked in the wallet: the next run is refused, and the log shows the refusal.
    await page.getByRole('link', { name: 'Grants' }).click();
    await page.getByRole('button', { name: `Revoke grant ${grantId}` }).click();
    await page.getByText(`Grant ${grantId} is revoked`).waitFor();
    await page.locator(`tr[data-grant="${grantId}"]`).getByText('revoked').waitFor();
    let refused = '';
    try {
      const again = await hearthApp.run('summarize', {
        fileIds: [file.id],
        grantId,
        parameters: { sentences: 1 },
      });
      refused = again.status;
    } catch (err) {
      assert.ok(isHearthProblem(err), String(err));
      refused = err.code;
    }
    assert.match(refused, /permission_denied|denied/);
    await page.getByRole('link', { name: 'Access log' }).click();
    await page.getByLabel('Outcome').selectOption('denied');
    await page.locator('tr[data-outcome="denied"]').first().waitFor();
    assert.equal(
      await page.locator('tr[data-outcome]:not([data-outcome="denied"])').count(),
      0,
      'the filter shows denials only',
    );
    await page.getByLabel('App address contains').fill(app.address.slice(2, 12));
    await page.locator('tr[data-outcome="denied"]').first().waitFor();
    await shot(page, '07-access-log-denied');

    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('img', { name: /^Operations, per day/ }).waitFor();
    await checkAccessibility(page, 'usage');
    await shot(page, '08-usage');
    // Another app asks for access; the owner approves it in the inbox (a grant signed in the wallet) and the app,
    // alone, claims its key and runs the operation it asked for.
    const asking = privateKeyToAccount(generatePrivateKey());
    const { requestId } = await HearthApp.requestAccess({
      baseUrl: gw.url,
      signer: asking,
      server: server.id,
      operations: ['summarize'],
      fileIds: [file.id],
      purpose: 'Summarises your diary once a week',
      appName: 'weekly digest',
    });
    await page.getByRole('link', { name: 'Access requests' }).click();
    await page.getByText('Summarises your diary once a week').waitFor();
    await checkAccessibility(page, 'requests');
    await shot(page, '09-requests');
    await page.getByRole('button', { name: 'Approve weekly digest' }).click();
    await page.getByText(/Approved weekly digest: grant \d+/).waitFor();
    await page.getByText('No pending requests').waitFor();
    const claimed = await HearthApp.claimKey({ baseUrl: gw.url, requestId, signer: asking });
    const digest = await new HearthApp({ apiKey: claimed.key, baseUrl: gw.url }).run('summarize', {
      fileIds: [file.id],
      parameters: { sentences: 1 },
    });
    assert.equal(digest.status, 'succeeded');
    await page.getByRole('link', { name: 'Export & delete' }).click();
    await page.getByRole('heading', { level: 1, name: 'Export and delete' }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the archive' }).click(),
    ]);
    const archive = readTar(readFileSync(await download.path()));
    const manifest = JSON.parse(archive[0].body.toString()) as {
      files: Array<{ name: string; entry: string }>;
    };
    assert.deepEqual(
      manifest.files.map((f) => f.name),
      ['diary.txt'],
    );
    assert.ok(archive.some((e) => e.name === manifest.files[0].entry));
    await checkAccessibility(page, 'settings');
    await shot(page, '10-settings');

    // Phone width: every page fits 375 px without sideways scrolling.
    await page.setViewportSize({ width: 375, height: 740 });
    for (const tab of ['files', 'grants', 'requests', 'keys', 'log', 'usage', 'portability', 'settings']) {
      await page.goto(`${gw.url}/servers/${server.id}/${tab}`);
      await page.locator('h1').waitFor();
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      const wide = await page.evaluate<string[]>(
        `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 376).slice(0, 8).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`,
      );
      assert.ok(width <= 375, `${tab} is ${width} px wide at 375: ${wide.join(', ')}`);
      await shot(page, `phone-${tab}`);
    }
    await page.setViewportSize({ width: 1200, height: 900 });

    // Delete: typed confirmation first.
    await page.getByLabel(/Type the server id/).fill('srv_wrong');
    await page.getByRole('button', { name: /Delete my personal server forever/ }).click();
    await page.getByRole('alert').getByText('Type the server id exactly').waitFor();
    await page.getByLabel(/Type the server id/).fill(server.id);
    await page.getByRole('button', { name: /Delete my personal server forever/ }).click();
    await page.waitForURL(/\/servers\?deleted=1/);
    await page.getByText('The server was deleted').waitFor();
    await assert.rejects(owner.getServer(server.id), (err) => isHearthProblem(err) && err.status === 404);
    assert.deepEqual(h.problems, []);
    await h.context.close();
  });

  it('API keys: create, rotate and revoke in the console; each secret authenticates as the docs say', async () => {
    const h = await open();
    await signIn(h);
    const { page } = h;
    await page.getByRole('link', { name: 'Personal server' }).click();
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    const whoami = async (secret: string): Promise<{ status: number; keyId?: string }> => {
      const res = await fetch(`${gw.url}/v1/whoami`, { headers: { authorization: `Bearer ${secret}` } });
      return res.ok
        ? { status: res.status, keyId: ((await res.json()) as { keyId: string }).keyId }
        : { status: res.status };
    };
    const name = 'nightly sync';
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('App address').fill(privateKeyToAccount(generatePrivateKey()).address);
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('status').getByText(`The secret of “${name}”.`).waitFor();
    const first = (await page.getByTestId('api-key-secret').textContent()) ?? '';
    assert.match(first, /^hth_live_/);
    const created = await whoami(first);
    assert.equal(created.status, 200);
    const row = page.locator(`tr[data-key="${created.keyId}"]`);
    await row.getByRole('cell', { name: `${name} ${created.keyId}` }).waitFor();

    // Rotated: a new secret shown once, same key id; the previous one keeps working for the grace period.
    await page.getByRole('button', { name: `Rotate ${name}` }).click();
    const note = page
      .getByRole('status')
      .getByText(`The new secret of “${name}”; the previous one keeps working until`);
    await note.waitFor();
    const second = (await page.getByTestId('api-key-secret').textContent()) ?? '';
    assert.match(second, /^hth_live_/);
    assert.notEqual(second, first);
    assert.deepEqual(await whoami(second), created);
    assert.deepEqual(await whoami(first), created, 'the previous secret works during the grace period');
    const until = Date.parse(/until (\S+)\.$/.exec((await note.textContent()) ?? '')?.[1] ?? '');
    const grace = gw.config.API_KEY_ROTATION_GRACE_SECONDS * 1000;
    assert.ok(Math.abs(until - Date.now() - grace) < 60_000, `the grace period ends in about ${grace} ms`);
    await checkAccessibility(page, 'keys rotated');
    await shot(page, '13-keys-rotated');

    // Revoked (a second click confirms): the page marks it revoked, and neither secret authenticates any more.
    await page.getByRole('button', { name: `Revoke ${name}` }).click();
    await page.getByRole('button', { name: `Confirm revoke ${name}` }).click();
    await page.getByRole('status').getByText(`Key “${name}” is revoked.`).waitFor();
    await page.locator(`tr[data-key="${created.keyId}"][data-revoked="true"]`).getByText('revoked').waitFor();
    assert.equal(await row.getByRole('button', { name: `Rotate ${name}` }).count(), 0);
    assert.equal(await page.getByTestId('api-key-secret').count(), 0, 'no secret said to work is left shown');
    assert.equal((await whoami(second)).status, 401);
    assert.equal((await whoami(first)).status, 401);
    await checkAccessibility(page, 'keys revoked');
    await shot(page, '14-keys-revoked');
    assert.deepEqual(h.problems, []);
    await h.context.close();
  });

  it('collectives: create one, see its members, add a member, whitelist an app with a signature', async () => {
    const h = await open();
    await signIn(h);
    const { page } = h;
    await page.getByLabel('Name').fill('Book club');
    await page.getByLabel(/^k /).fill('2');
    await page.getByRole('button', { name: 'Create collective' }).click();
    await page.getByRole('heading', { level: 1, name: 'Members and apps' }).waitFor();
    await page.getByText('You are an admin').waitFor();
    for (const personalOnly of ['Access requests', 'Data portability']) {
      assert.equal(await page.getByRole('link', { name: personalOnly }).count(), 0, 'personal servers only');
    }
    const member = privateKeyToAccount(generatePrivateKey()).address;
    await page.getByLabel('Member address').fill(member);
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.getByText(`${member} is now a member.`).waitFor();
    await page.getByRole('button', { name: `Remove ${member}` }).waitFor();
    const app = privateKeyToAccount(generatePrivateKey()).address;
    await page.getByLabel('App address').fill(app);
    await page.getByRole('button', { name: 'Sign and whitelist' }).click();
    await page.getByText(`${app} may now run aggregates here.`).waitFor();
    await checkAccessibility(page, 'members');
    await shot(page, '11-collective-members');
    assert.deepEqual(h.problems, []);
    await h.context.close();
  });

  it('data portability: an ingested scope is listed not readable, made readable and back', async () => {
    const h = await open();
    await signIn(h);
    const { page } = h;
    const token = (await pageSession(page))?.token ?? '';
    const owner = new HearthOwner({ baseUrl: gw.url, token });
    const server = await owner.personalServer();
    await page.getByRole('link', { name: 'Personal server' }).click();
    await page.getByRole('link', { name: 'Data portability' }).click();
    await page.getByRole('heading', { level: 1, name: 'Data portability' }).waitFor();
    await page.getByText('No scopes yet').waitFor();
    await checkAccessibility(page, 'data-portability-empty');

    // Ingested as the owner with the session (no schema gateway configured: the document is stored as sent).
    const scope = 'instagram.profile';
    const ingested = await fetch(`${gw.url}/dp/${server.id}/v1/data/${scope}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', followers: 3 }),
    });
    assert.equal(ingested.status, 201);
    const readableNow = async (): Promise<boolean | undefined> =>
      (await owner.dataPortabilityScopes(server.id)).find((s) => s.scope === scope)?.readable;

    await page.reload();
    const row = page.locator(`tr[data-scope="${scope}"]`);
    await row.getByRole('cell', { name: 'No', exact: true }).waitFor();
    await row.getByRole('cell', { name: '1', exact: true }).waitFor();
    await checkAccessibility(page, 'data-portability');
    await shot(page, '12-data-portability');

    await page.getByRole('button', { name: `Make readable ${scope}` }).click();
    await page.getByRole('status').getByText(`${scope} is now readable`).waitFor();
    await page.locator(`tr[data-scope="${scope}"][data-readable="true"]`).waitFor();
    assert.equal(await readableNow(), true);
    await checkAccessibility(page, 'data-portability-readable');

    await page.getByRole('button', { name: `Make not readable ${scope}` }).click();
    await page.getByRole('status').getByText(`${scope} is no longer readable`).waitFor();
    await page.locator(`tr[data-scope="${scope}"][data-readable="false"]`).waitFor();
    assert.equal(await readableNow(), false);
    assert.deepEqual(h.problems, []);
    await h.context.close();
  });

  it('a rejected signature and a wallet on the wrong chain each say so, and sign nobody in', async () => {
    const h = await open({ chainId: 1 });
    await h.page.goto(`${gw.url}/sign-in`);
    await h.page.getByRole('button', { name: 'Sign in with Test Wallet' }).click();
    await h.page
      .getByRole('alert')
      .getByText(/Your wallet is on chain 1, but this Hearth signs on chain/)
      .waitFor();
    assert.ok(!h.wallet.calls.includes('personal_sign'), 'nothing was signed on the wrong chain');
    await shot(h.page, 'failure-wrong-chain');
    h.wallet.reject = true;
    await h.page.getByRole('button', { name: /Switch wallet to chain/ }).click();
    await h.page.getByRole('alert').getByText('You rejected the request in your wallet').waitFor();
    assert.equal(
      h.wallet.chainId,
      gw.config.CHAIN_ID,
      'the switch went through; only the signature was refused',
    );
    assert.equal(await pageSession(h.page), null);
    assert.match(h.page.url(), /\/sign-in/);
    await checkAccessibility(h.page, 'sign-in with an error');
    await shot(h.page, 'failure-rejected');
    h.wallet.reject = false;
    await h.page.getByRole('button', { name: 'Sign in with Test Wallet' }).click();
    await h.page.getByRole('heading', { level: 1, name: 'Your servers' }).waitFor();
    assert.deepEqual(h.problems, []);
    await h.context.close();
  });

  it('an expired session goes to sign-in and comes back to the same page', async () => {
    const h = await open();
    await signIn(h);
    const token = (await pageSession(h.page))?.token ?? '';
    const server = await new HearthOwner({ baseUrl: gw.url, token }).personalServer();
    await h.page.goto(`${gw.url}/servers/${server.id}/grants`);
    await h.page.getByRole('heading', { level: 1, name: 'Grants' }).waitFor();
    // The session ends behind the page's back (as it does when it expires); the next request is a 401.
    await new HearthOwner({ baseUrl: gw.url, token }).signOut();
    const gone = await fetch(`${gw.url}/v1/servers/${server.id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(gone.status, 401);
    await h.page.reload();
    await h.page.getByText('Your session has expired').waitFor({ timeout: 60_000 });
    assert.match(h.page.url(), /\/sign-in\?expired=1&next=/);
    await shot(h.page, 'failure-expired-session');
    await h.page.getByRole('button', { name: 'Sign in with Test Wallet' }).click();
    await h.page.waitForURL(`${gw.url}/servers/${server.id}/grants`);
    await h.page.getByRole('heading', { level: 1, name: 'Grants' }).waitFor();
    assert.deepEqual(h.problems, []);
    await h.context.close();
  });

  it('an upload over the limit says so and stores nothing, in both encryption modes', async () => {
    const h = await open();
    await signIn(h);
    await h.page.getByRole('link', { name: 'Personal server' }).click();
    await h.page.getByRole('heading', { level: 1, name: 'Files' }).waitFor();
    const big = {
      name: 'too-big.bin',
      mimeType: 'application/octet-stream',
      buffer: Buffer.alloc(UPLOAD_LIMIT + 4096, 7),
    };
    await h.page.locator('input[type=file]').setInputFiles(big);
    await h.page
      .getByRole('alert')
      .getByText(/Upload failed: The file is too large/)
      .waitFor();
    await shot(h.page, 'failure-too-large');
    // The envelope was written to the origin's private file system as it was made; a refused upload leaves none.
    assert.deepEqual(await spoolFiles(h.page), []);
    await h.page.getByRole('radio', { name: /On the server/ }).check();
    await h.page.locator('input[type=file]').setInputFiles(big);
    await h.page
      .getByRole('alert')
      .getByText(/Upload failed: The file is too large/)
      .waitFor();
    await h.page.getByRole('cell', { name: 'No files yet.' }).waitFor();
    const token = (await pageSession(h.page))?.token ?? '';
    const owner = new HearthOwner({ baseUrl: gw.url, token });
    assert.equal((await owner.listFiles((await owner.personalServer()).id)).items.length, 0);
    assert.deepEqual(h.problems, []);
    await h.context.close();
  });
});
