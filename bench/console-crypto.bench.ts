/**
 * In-browser envelope encryption, as the console does it, beside WebCrypto AES-256-GCM on the same bytes, in
 * Debian's Chromium (playwright-core). The envelope path is the SDK's `encryptForServer` with an owner slot
 * (version 2) reading a 100 MiB Blob and handing the frames to 4 MiB Blobs, exactly the console's upload path
 * minus the network. Prints MiB/s (median of the rounds, after a warm-up); not a test.
 *
 *   npm run build && node dist/bench/console-crypto.bench.js [MiB] [rounds]
 */
import { chromium } from 'playwright-core';
import { generateIdentity } from '@hearth/crypto';
import { BROWSER_BUNDLE } from '../packages/sdk/scripts/bundle';
import { benchScript, CHROMIUM, openBenchPage } from './lib/browser-page';

interface Figures {
  envelope: number[];
  webcryptoOneShot: number[];
  webcryptoChunked: number[];
  envelopeBytes: number;
}

async function main(): Promise<void> {
  const mib = Number(process.argv[2] ?? 100);
  const rounds = Number(process.argv[3] ?? 3);
  const script = await benchScript(
    `import * as sdk from ${JSON.stringify(BROWSER_BUNDLE)}; window.hearthSdk = sdk;`,
  );
  const server = generateIdentity();
  const owner = generateIdentity();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await openBenchPage(page, script, 'hearthSdk');
    const figures = await page.evaluate<Figures>(
      `(async ({ mib, rounds, server, owner }) => {
        const { encryptForServer } = window.hearthSdk;
        const size = mib * 1024 * 1024;
        const bytes = new Uint8Array(size);
        for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
        const file = new Blob([bytes]);
        const rate = (ms) => mib / (ms / 1000);
        const out = { envelope: [], webcryptoOneShot: [], webcryptoChunked: [], envelopeBytes: 0 };
        const key = await crypto.subtle.importKey('raw', crypto.getRandomValues(new Uint8Array(32)), 'AES-GCM', false, ['encrypt']);
        // A first envelope of 8 MiB warms the JIT and WebCrypto up; it is not counted.
        const warm = new Blob([bytes.subarray(0, 8 * 1024 * 1024)]);
        const envelopeOf = async (input) => {
          const t = performance.now();
          const blobs = [];
          let batch = [];
          let batched = 0;
          for await (const part of encryptForServer({ publicKey: server }, input, { ownerPublicKey: owner })) {
            batch.push(part);
            batched += part.byteLength;
            if (batched >= 4 * 1024 * 1024) { blobs.push(new Blob(batch)); batch = []; batched = 0; }
          }
          blobs.push(new Blob(batch));
          const envelope = new Blob(blobs);
          return { ms: performance.now() - t, size: envelope.size };
        };
        const steps = [
          async () => {
            const { ms, size: bytesOut } = await envelopeOf(file);
            out.envelope.push(rate(ms));
            out.envelopeBytes = bytesOut;
          },
          async () => {
            const t = performance.now();
            await crypto.subtle.encrypt({ name: 'AES-GCM', iv: new Uint8Array(12) }, key, bytes);
            out.webcryptoOneShot.push(rate(performance.now() - t));
          },
          async () => {
            const t = performance.now();
            for (let i = 0, n = 0; i < size; i += 65536, n++) {
              const iv = new Uint8Array(12);
              new DataView(iv.buffer).setUint32(8, n);
              await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, bytes.subarray(i, i + 65536));
            }
            out.webcryptoChunked.push(rate(performance.now() - t));
          },
        ];
        await envelopeOf(warm);
        // Which of the three goes first alternates by round, so none always runs on a fresh heap.
        for (let r = 0; r < rounds; r++) {
          for (const step of r % 2 ? [...steps].reverse() : steps) await step();
        }
        return out;
      })(${JSON.stringify({ mib, rounds, server: server.publicKey, owner: owner.publicKey })})`,
    );
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    const line = (label: string, v: number[]) =>
      `${label.padEnd(48)} ${median(v).toFixed(0).padStart(6)} MiB/s   (rounds: ${v.map((x) => x.toFixed(0)).join(', ')})`;
    process.stdout.write(
      [
        `in-browser encryption of ${mib} MiB in Chromium (${browser.version()}), median of ${rounds}`,
        line('envelope v2 (SDK, 64 KiB chunks, into Blobs)', figures.envelope),
        line('WebCrypto AES-256-GCM, one call over all bytes', figures.webcryptoOneShot),
        line('WebCrypto AES-256-GCM, 64 KiB calls in sequence', figures.webcryptoChunked),
        `envelope size ${figures.envelopeBytes} bytes (${figures.envelopeBytes - mib * 1024 * 1024} of overhead)`,
        '',
      ].join('\n'),
    );
  } finally {
    await browser.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
