/**
 * Memory of an in-browser encryption as large as 1 GiB, by the console's own code (apps/console/src/spool.ts: the
 * SDK's `encryptForServer` with an owner slot reading the picked file, the envelope written to the origin's
 * private file system in 4 MiB pieces, the file the upload sends), in Debian's Chromium (playwright-core). Its peaks are the RSS of the page's renderer and of Chromium's other processes (the
 * Blob store), sampled from /proc while it runs, above their RSS just before; the baseline in the same page is reading a slice of the same Blob whole
 * into memory (what an encryption that is not streamed does first), so the figures show what streaming saves.
 * The input is a file on disk picked in a file input, as a person picks one.
 * Prints figures; not a test.
 *
 *   npm run build && node dist/bench/console-upload-memory.bench.js [MiB=1024] [baselineMiB=256]
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import { generateIdentity } from '@hearth/crypto';
import { benchScript, CHROMIUM, openBenchPage } from './lib/browser-page';

const MiB = 1024 * 1024;

/** Resident memory of Chromium's processes, in bytes: its renderers (there is one page) and the rest. */
function chromiumRss(): { renderer: number; other: number } {
  const out = { renderer: 0, other: 0 };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes('chromium')) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'));
      if (!rss) continue;
      if (cmdline.includes('--type=renderer')) out.renderer += Number(rss[1]) * 1024;
      else out.other += Number(rss[1]) * 1024;
    } catch {
      // why: the process ended between the listing and the read.
    }
  }
  return out;
}

interface Peak {
  before: number;
  peak: number;
}

/** Runs `fn` while sampling Chromium's RSS every 50 ms; the peaks above the levels just before it. */
async function peakAbove<T>(fn: () => Promise<T>): Promise<{ value: T; renderer: Peak; other: Peak }> {
  const start = chromiumRss();
  const renderer = { before: start.renderer, peak: start.renderer };
  const other = { before: start.other, peak: start.other };
  const sample = () => {
    const now = chromiumRss();
    renderer.peak = Math.max(renderer.peak, now.renderer);
    other.peak = Math.max(other.peak, now.other);
  };
  const timer = setInterval(sample, 50);
  try {
    const value = await fn();
    sample();
    return { value, renderer, other };
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  const mib = Number(process.argv[2] ?? 1024);
  const baselineMib = Number(process.argv[3] ?? 256);
  // The console's own spooling code, on the SDK's browser build.
  const script = await benchScript(
    `import { encryptToSpool } from './apps/console/src/spool.ts'; window.consoleSpool = { encryptToSpool };`,
    'ts',
  );
  const server = generateIdentity();
  const owner = generateIdentity();
  // A profile on disk, as a person's browser has: an incognito context keeps its file system and Blobs in memory.
  const profile = mkdtempSync(join(tmpdir(), 'hearth-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ['--no-sandbox'],
  });
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    await openBenchPage(page, script, 'consoleSpool');
    // The input: a `mib` MiB file on disk picked in a file input, as a person picks one (Chromium reads it from
    // disk as it is read; nothing of it is in the page until then).
    const path = join(mkdtempSync(join(tmpdir(), 'hearth-upload-')), 'big.bin');
    const block = randomBytes(MiB);
    const fd = openSync(path, 'w');
    for (let i = 0; i < mib; i++) writeSync(fd, block);
    closeSync(fd);
    await page.setContent('<input type="file" id="pick">');
    await page.setInputFiles('#pick', path);
    await page.evaluate('window.input = document.getElementById("pick").files[0]');
    await page.evaluate('new Promise((r) => setTimeout(r, 500))');
    const envelope = await peakAbove(() =>
      page.evaluate<{ ms: number; bytesOut: number }>(
        `(async ({ server, owner }) => {
          const t = performance.now();
          window.envelope = await window.consoleSpool.encryptToSpool({ publicKey: server }, window.input, {
            ownerPublicKey: owner,
          });
          return { ms: performance.now() - t, bytesOut: window.envelope.body.size };
        })(${JSON.stringify({ server: server.publicKey, owner: owner.publicKey })})`,
      ),
    );
    await page.evaluate('new Promise((r) => setTimeout(r, 500))');
    const whole = await peakAbove(() =>
      page.evaluate<number>(
        `(async (n) => (await window.input.slice(0, n).arrayBuffer()).byteLength)(${baselineMib * MiB})`,
      ),
    );
    const mb = (n: number) => `${(n / MiB).toFixed(0)} MiB`;
    const above = (p: Peak) => `${mb(p.peak - p.before)} above the ${mb(p.before)} before`;
    process.stdout.write(
      [
        `Chromium ${browser.browser()?.version() ?? ''} (a profile on disk): RSS of its renderer processes and of its other processes, sampled every 50 ms`,
        `  envelope v2 of a ${mib} MiB file, spooled as the console does: ${(mib / (envelope.value.ms / 1000)).toFixed(0)} MiB/s, ` +
          `${envelope.value.bytesOut} bytes; renderer peak ${above(envelope.renderer)} = ` +
          `${((envelope.renderer.peak - envelope.renderer.before) / (mib * MiB)).toFixed(3)} of the input; ` +
          `other processes (the browser's, its Blob store) ${above(envelope.other)}`,
        `  baseline, a ${baselineMib} MiB slice of it read whole: renderer peak ${above(whole.renderer)} = ` +
          `${((whole.renderer.peak - whole.renderer.before) / (baselineMib * MiB)).toFixed(3)} of the slice`,
        `goal: 1 GiB must not need 1 GiB of memory`,
        '',
      ].join('\n'),
    );
    rmSync(dirname(path), { recursive: true, force: true });
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
