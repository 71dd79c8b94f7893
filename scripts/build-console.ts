import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * Builds the web console (apps/console, Vite + React) into dist/console, which the gateway serves at `/`, and
 * prints what a first visit downloads: index.html and the scripts and styles it references, gzipped. Chunks
 * imported lazily (the usage charts) are not part of it.
 */
export const REPO_ROOT = join(__dirname, '..', '..');
export const CONSOLE_SOURCE = join(REPO_ROOT, 'apps', 'console');
export const CONSOLE_OUT = join(REPO_ROOT, 'dist', 'console');
const FIRST_LOAD_BUDGET_KB = 300;

export interface FirstLoad {
  files: Array<{ path: string; gzipBytes: number }>;
  scriptGzipBytes: number;
  totalGzipBytes: number;
}

/** The assets index.html pulls in on a first visit (scripts, module preloads, stylesheets), gzipped. */
export function measureFirstLoad(outDir = CONSOLE_OUT): FirstLoad {
  const html = readFileSync(join(outDir, 'index.html'));
  const referenced = [...html.toString('utf8').matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map(
    (m) => m[1],
  );
  const files = [
    { path: 'index.html', gzipBytes: gzipSync(html, { level: 9 }).length },
    ...referenced.map((path) => ({
      path,
      gzipBytes: gzipSync(readFileSync(join(outDir, path)), { level: 9 }).length,
    })),
  ];
  const scriptGzipBytes = files.filter((f) => f.path.endsWith('.js')).reduce((n, f) => n + f.gzipBytes, 0);
  return { files, scriptGzipBytes, totalGzipBytes: files.reduce((n, f) => n + f.gzipBytes, 0) };
}

export async function buildConsole(): Promise<FirstLoad> {
  // Both are ESM-only packages (compiled to require(), which Node 20.19+ loads as ESM).
  const { build } = await import('vite');
  // why: the plugin's types resolve only under moduleResolution bundler/node16; it is called with no options.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const react = (require('@vitejs/plugin-react') as { default: () => import('vite').PluginOption }).default;
  await build({
    root: CONSOLE_SOURCE,
    configFile: false,
    base: '/',
    logLevel: 'warn',
    plugins: [react()],
    resolve: { alias: { '@hearth/sdk': join(REPO_ROOT, 'packages', 'sdk', 'src', 'index.ts') } },
    build: {
      outDir: CONSOLE_OUT,
      emptyOutDir: true,
      assetsDir: 'assets',
      target: 'es2022',
      // The polyfill would be an inline script, which the console's CSP forbids; every target browser has it.
      modulePreload: { polyfill: false },
      reportCompressedSize: false,
      chunkSizeWarningLimit: 1024,
    },
  });
  return measureFirstLoad();
}

if (require.main === module) {
  buildConsole().then(
    (load) => {
      const kb = (n: number) => (n / 1024).toFixed(1);
      const lazy = readdirSync(join(CONSOLE_OUT, 'assets')).length - (load.files.length - 1);
      process.stdout.write(
        `console: dist/console, first-load JS ${kb(load.scriptGzipBytes)} KB gzipped (budget ${FIRST_LOAD_BUDGET_KB} KB), ` +
          `${kb(load.totalGzipBytes)} KB with HTML and CSS; ${lazy} lazily loaded asset(s) not counted\n`,
      );
      if (load.scriptGzipBytes > FIRST_LOAD_BUDGET_KB * 1024) {
        process.stderr.write(`console: first-load JS is over its ${FIRST_LOAD_BUDGET_KB} KB budget\n`);
        process.exit(1);
      }
    },
    (err: unknown) => {
      process.stderr.write(`console build failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
