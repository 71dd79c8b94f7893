#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { basename } from 'node:path';
import { privateKeyToAccount } from 'viem/accounts';
import {
  HearthApp,
  HearthOwner,
  HearthProblemError,
  ReceiptVerificationError,
  verifyReceiptWith,
  type HearthFile,
  type Operation,
  type Server,
} from '@hearth/sdk';
import { forgetSession, loadSession, saveSession, type CliSession } from './session';
import { type KeyOptions, loadPrivateKey, UsageError } from './keys';

/**
 * `hearth`: the SDK on the command line. Owner commands use the session `hearth login` saved; `run` and
 * `receipt verify` act as an app with HEARTH_API_KEY (or --api-key-file). `--json` prints machine output on
 * stdout; exit 0 ok, 1 failed (the problem's code and detail on stderr), 2 bad usage.
 */
interface Globals {
  url?: string;
  json?: boolean;
}

const DEFAULT_URL = 'http://127.0.0.1:8080';

function out(g: Globals, value: unknown, human: () => string): void {
  process.stdout.write(g.json ? `${JSON.stringify(value)}\n` : `${human()}\n`);
}

function baseUrl(g: Globals, session?: CliSession): string {
  return g.url ?? process.env.HEARTH_URL ?? session?.url ?? DEFAULT_URL;
}

function ownerFrom(g: Globals): { owner: HearthOwner; session: CliSession } {
  const session = loadSession();
  if (!session) throw new UsageError('not signed in: run `hearth login --key-file FILE` first');
  return {
    owner: new HearthOwner({ baseUrl: baseUrl(g, session), token: session.token, address: session.address }),
    session,
  };
}

function apiKey(opts: { apiKeyFile?: string }): string {
  const key = opts.apiKeyFile ? readFileSync(opts.apiKeyFile, 'utf8').trim() : process.env.HEARTH_API_KEY;
  if (!key)
    throw new UsageError('this command runs as an app: set HEARTH_API_KEY or give --api-key-file FILE');
  return key;
}

/** A table cell: strings as they are, anything else as JSON. */
function cell(value: unknown): string {
  if (value === undefined || value === null) return '-';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `k=v`; v is JSON when it parses (numbers, booleans, arrays), else the string. */
function parseParams(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const cut = pair.indexOf('=');
    if (cut <= 0) throw new UsageError(`--param ${pair}: expected key=value`);
    const raw = pair.slice(cut + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    out[pair.slice(0, cut)] = value;
  }
  return out;
}

function withKeyOptions(cmd: Command): Command {
  return cmd
    .option('--key-file <file>', 'the wallet private key (hex) in a file')
    .option('--keystore <file>', 'an encrypted (V3) keystore file')
    .option(
      '--password-file <file>',
      "the keystore's password in a file (else HEARTH_KEYSTORE_PASSWORD, else asked)",
    );
}

function progressBar(label: string, total: number | undefined): (bytes: number) => void {
  let last = -1;
  const tty = process.stderr.isTTY;
  return (bytes) => {
    const pct = total ? Math.floor((bytes / total) * 100) : undefined;
    if (pct !== undefined && pct === last) return;
    last = pct ?? last;
    const width = 30;
    const bar =
      pct === undefined ? '' : `[${'#'.repeat(Math.round((pct / 100) * width)).padEnd(width, '.')}] ${pct}% `;
    const line = `${label} ${bar}${bytes}${total ? `/${total}` : ''} bytes`;
    if (tty) process.stderr.write(`\r${line}`);
    else if (pct === 100 || pct === undefined || pct % 25 === 0) process.stderr.write(`${line}\n`);
  };
}

async function serverIdOf(owner: HearthOwner, session: CliSession, given?: string): Promise<string> {
  return given ?? session.serverId ?? (await owner.personalServer()).id;
}

export function buildProgram(): Command {
  const program = new Command('hearth')
    .description(
      'Hearth from the command line (owners: login, files, grants, keys, log; apps: run, receipts)',
    )
    .option('--url <url>', `the gateway (else HEARTH_URL, else the login's, else ${DEFAULT_URL})`)
    .option('--json', 'machine-readable output on stdout')
    .showHelpAfterError()
    .exitOverride();
  const g = () => program.opts<Globals>();

  withKeyOptions(
    program
      .command('login')
      .description('sign in with a wallet key (SIWE); keeps the session token, never the key'),
  ).action(async (opts: KeyOptions) => {
    const account = privateKeyToAccount(await loadPrivateKey(opts));
    const url = baseUrl(g(), loadSession());
    const owner = await HearthOwner.signIn(account, { baseUrl: url });
    const server = await owner.personalServer();
    saveSession({ url, token: owner.token, address: account.address, serverId: server.id });
    out(
      g(),
      { address: account.address, serverId: server.id, url },
      () => `signed in as ${account.address} (server ${server.id})`,
    );
  });

  program
    .command('logout')
    .description('end the saved session')
    .action(async () => {
      const { owner } = ownerFrom(g());
      await owner.signOut().catch(() => undefined);
      forgetSession();
      out(g(), { ok: true }, () => 'signed out');
    });

  program
    .command('servers')
    .description('my servers and collectives')
    .action(async () => {
      const { owner } = ownerFrom(g());
      const items: Server[] = [];
      for await (const s of owner.servers()) items.push(s);
      out(g(), items, () =>
        items.map((s) => `${s.id}  ${s.kind.padEnd(10)} ${s.address}  ${s.name}`).join('\n'),
      );
    });

  program
    .command('upload')
    .description('upload files (encrypted on arrival, or here with --client-side)')
    .argument('<files...>')
    .option('--server <id>', 'the server (default: my personal server)')
    .option('--client-side', "encrypt here to the server's public key (the gateway never sees plaintext)")
    .option('--content-type <type>', 'recorded with server-side files', 'application/octet-stream')
    .action(async (files: string[], opts: { server?: string; clientSide?: boolean; contentType: string }) => {
      const { owner, session } = ownerFrom(g());
      for (const f of files) {
        try {
          if (!statSync(f).isFile()) throw new Error();
        } catch {
          throw new UsageError(`${f}: no such file`);
        }
      }
      const serverId = await serverIdOf(owner, session, opts.server);
      const uploaded: HearthFile[] = [];
      for (const f of files) {
        const size = statSync(f).size;
        const bar = progressBar(basename(f), size);
        const file = await owner.upload(serverId, createReadStream(f), {
          name: basename(f),
          contentType: opts.contentType,
          clientSide: opts.clientSide,
          onProgress: (p) => bar(p.bytes),
        });
        if (process.stderr.isTTY) process.stderr.write('\n');
        uploaded.push(file);
      }
      out(g(), uploaded, () =>
        uploaded.map((u) => `${u.id}  ${u.encryption.padEnd(6)} ${u.size}  ${u.name}`).join('\n'),
      );
    });

  program
    .command('export')
    .description('download everything of a server as one tar archive (files, grants, access log, manifest)')
    .option('--server <id>', 'the server (default: my personal server)')
    .option('--out <file>', 'where to write it (default: hearth-<server id>.tar)')
    .action(async (opts: { server?: string; out?: string }) => {
      const { owner, session } = ownerFrom(g());
      const serverId = await serverIdOf(owner, session, opts.server);
      const target = opts.out ?? `hearth-${serverId}.tar`;
      const partial = `${target}.partial`;
      const res = await owner.exportArchive(serverId);
      if (!res.body) throw new Error('the export answered without a body');
      let bytes = 0;
      const bar = progressBar(basename(target), undefined);
      const counted = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
      counted.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (process.stderr.isTTY) bar(bytes);
      });
      try {
        // Written aside and renamed at the end: an archive cut short is never left under the name asked for.
        await pipeline(counted, createWriteStream(partial, { mode: 0o600 }));
        if (!endsWithTarTrailer(partial))
          throw new Error('the archive was cut short (no end-of-archive blocks)');
        renameSync(partial, target);
      } catch (err) {
        rmSync(partial, { force: true });
        throw err;
      }
      if (process.stderr.isTTY) process.stderr.write('\n');
      out(g(), { serverId, file: target, bytes }, () => `${target}  ${bytes} bytes`);
    });

  program
    .command('files')
    .description("a server's files")
    .option('--server <id>')
    .action(async (opts: { server?: string }) => {
      const { owner, session } = ownerFrom(g());
      const serverId = await serverIdOf(owner, session, opts.server);
      const items: HearthFile[] = [];
      for await (const f of owner.files(serverId)) items.push(f);
      out(g(), items, () =>
        items
          .map((f) => `${f.id}  ${f.encryption.padEnd(6)} ${String(f.size).padStart(9)}  ${f.name}`)
          .join('\n'),
      );
    });

  withKeyOptions(
    program
      .command('grant')
      .description('grant an app operations on files (you sign, the platform relays)')
      .requiredOption('--app <address>', "the app's wallet address")
      .requiredOption('--operation <name>', 'an operation (repeatable)', collect)
      .option('--file <id>', 'a file (repeatable)', collect)
      .option('--all-files', 'every file of the server')
      .option('--expires <iso>', 'ISO 8601 expiry')
      .option('--server <id>'),
  ).action(
    async (
      opts: KeyOptions & {
        app: string;
        operation: string[];
        file?: string[];
        allFiles?: boolean;
        expires?: string;
        server?: string;
      },
    ) => {
      if (!opts.file?.length && !opts.allFiles)
        throw new UsageError('give --file ID (repeatable) or --all-files');
      const { owner, session } = ownerFrom(g());
      const account = privateKeyToAccount(await loadPrivateKey(opts));
      const serverId = await serverIdOf(owner, session, opts.server);
      const res = await owner.grant(
        serverId,
        {
          appAddress: opts.app,
          operations: opts.operation,
          fileIds: opts.file,
          allFiles: opts.allFiles,
          expiresAt: opts.expires,
        },
        account,
      );
      out(g(), res, () => `grant ${res.grantId} (tx ${res.txHash})`);
    },
  );

  withKeyOptions(
    program.command('revoke').description('revoke a grant').argument('<grantId>').option('--server <id>'),
  ).action(async (grantId: string, opts: KeyOptions & { server?: string }) => {
    const { owner, session } = ownerFrom(g());
    const account = privateKeyToAccount(await loadPrivateKey(opts));
    const res = await owner.revokeGrant(await serverIdOf(owner, session, opts.server), grantId, account);
    out(g(), res, () => `revoked ${res.grantId} (tx ${res.txHash})`);
  });

  const keys = program.command('keys').description("apps' API keys");
  keys
    .command('create')
    .requiredOption('--name <name>')
    .requiredOption('--app <address>', "the app's wallet address")
    .option('--operation <name>', 'allow only these operations (repeatable)', collect)
    .option('--origin <origin>', 'allow only these origins (repeatable)', collect)
    .option('--rate <perMinute>', 'calls per minute', (v) => {
      if (!/^\d+$/.test(v)) throw new UsageError(`--rate ${v}: not a whole number`);
      return Number(v);
    })
    .option('--server <id>')
    .action(
      async (opts: {
        name: string;
        app: string;
        operation?: string[];
        origin?: string[];
        rate?: number;
        server?: string;
      }) => {
        const { owner, session } = ownerFrom(g());
        const key = await owner.createApiKey(await serverIdOf(owner, session, opts.server), {
          name: opts.name,
          appAddress: opts.app,
          operations: opts.operation,
          origins: opts.origin,
          ratePerMinute: opts.rate,
        });
        out(g(), key, () => `${key.id}  ${key.key}   (the secret is shown once)`);
      },
    );
  keys
    .command('list')
    .option('--server <id>')
    .action(async (opts: { server?: string }) => {
      const { owner, session } = ownerFrom(g());
      const { items } = await owner.listApiKeys(await serverIdOf(owner, session, opts.server), {
        limit: 200,
      });
      out(g(), items, () => items.map((k) => `${k.id}  ${k.appAddress}  ${k.name}`).join('\n'));
    });
  keys
    .command('rotate')
    .argument('<keyId>')
    .option('--server <id>')
    .action(async (keyId: string, opts: { server?: string }) => {
      const { owner, session } = ownerFrom(g());
      const key = await owner.rotateApiKey(await serverIdOf(owner, session, opts.server), keyId);
      out(
        g(),
        key,
        () =>
          `${key.id}  ${key.key}   (the previous secret works until ${key.previousKeyExpiresAt ?? 'now'})`,
      );
    });
  keys
    .command('revoke')
    .argument('<keyId>')
    .option('--server <id>')
    .action(async (keyId: string, opts: { server?: string }) => {
      const { owner, session } = ownerFrom(g());
      await owner.revokeApiKey(await serverIdOf(owner, session, opts.server), keyId);
      out(g(), { id: keyId, revoked: true }, () => `revoked ${keyId}`);
    });

  program
    .command('run')
    .description('run an operation as an app (HEARTH_API_KEY); prints the finished operation')
    .argument('<operation>')
    .requiredOption('--file <id>', 'an input file (repeatable)', collect)
    .option('--param <k=v>', 'a parameter (repeatable; JSON values allowed)', collect)
    .option('--grant <id>', 'the grant that allows it')
    .option('--api-key-file <file>', 'the API key in a file (else HEARTH_API_KEY)')
    .option('--no-verify', 'do not verify the receipt')
    .action(
      async (
        operation: string,
        opts: { file: string[]; param?: string[]; grant?: string; apiKeyFile?: string; verify: boolean },
      ) => {
        const parameters = parseParams(opts.param ?? []);
        const app = new HearthApp({ apiKey: apiKey(opts), baseUrl: baseUrl(g(), loadSession()) });
        const controller = new AbortController();
        process.once('SIGINT', () => controller.abort());
        const op = await app.run(operation, {
          fileIds: opts.file,
          parameters,
          grantId: opts.grant,
          signal: controller.signal,
          onProgress: (e) => process.stderr.write(`${e.id} ${e.status}\n`),
        });
        const verified = opts.verify && op.receipt ? await app.verifyReceipt(op, { parameters }) : undefined;
        out(g(), op, () =>
          [
            `${op.id} ${op.status}`,
            op.error ? `error: ${op.error.code}: ${op.error.detail}` : JSON.stringify(op.result, null, 2),
            verified ? `receipt verified: signed by ${verified.signer} (${verified.checked.join(', ')})` : '',
          ]
            .filter(Boolean)
            .join('\n'),
        );
        if (op.status !== 'succeeded') process.exitCode = 1;
      },
    );

  program
    .command('receipt')
    .description('receipts')
    .command('verify')
    .description(
      "verify a saved operation's receipt (the output of `hearth run --json`) against the server's address",
    )
    .argument('<file>')
    .option(
      '--api-key-file <file>',
      'the API key in a file (else HEARTH_API_KEY; else the owner session is used)',
    )
    .action(async (file: string, opts: { apiKeyFile?: string }) => {
      let op: Operation;
      try {
        op = JSON.parse(readFileSync(file, 'utf8')) as Operation;
      } catch (err) {
        throw new UsageError(`${file}: not an operation JSON (${(err as Error).message})`);
      }
      const url = baseUrl(g(), loadSession());
      let verified;
      if (opts.apiKeyFile || process.env.HEARTH_API_KEY) {
        verified = await new HearthApp({ apiKey: apiKey(opts), baseUrl: url }).verifyReceipt(op);
      } else {
        const { owner } = ownerFrom(g());
        if (!op.serverId) throw new UsageError(`${file}: the operation names no serverId`);
        const server = await owner.getServer(op.serverId);
        verified = await verifyReceiptWith(op, { serverAddress: server.address });
      }
      out(
        g(),
        { valid: true, ...verified },
        () => `receipt valid: signed by ${verified.signer} (${verified.checked.join(', ')})`,
      );
    });

  program
    .command('log')
    .description("the server's access log, newest first")
    .option('--server <id>')
    .option('--limit <n>', 'rows to show', '50')
    .option('--follow', 'keep printing new rows as they come (Ctrl-C stops)')
    .option('--interval <ms>', 'poll interval with --follow', '2000')
    .action(async (opts: { server?: string; limit: string; follow?: boolean; interval: string }) => {
      const { owner, session } = ownerFrom(g());
      const serverId = await serverIdOf(owner, session, opts.server);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new UsageError(`--limit ${opts.limit}: not a positive integer`);
      const line = (r: Record<string, unknown>) =>
        g().json
          ? JSON.stringify(r)
          : [r.createdAt, r.outcome, r.operation ?? r.kind, r.actor, r.id].map(cell).join('  ');
      const rows = [];
      for await (const r of owner.accessLog(serverId)) {
        rows.push(r);
        if (rows.length >= limit) break;
      }
      for (const r of rows.reverse()) process.stdout.write(`${line(r)}\n`);
      if (!opts.follow) return;
      let newest = rows.at(-1)?.id;
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      while (!stop.signal.aborted) {
        await new Promise((r) => setTimeout(r, Number(opts.interval)));
        const fresh = [];
        for await (const r of owner.accessLog(serverId)) {
          if (r.id === newest) break;
          fresh.push(r);
          if (!newest && fresh.length >= limit) break;
        }
        for (const r of fresh.reverse()) process.stdout.write(`${line(r)}\n`);
        newest = fresh.at(-1)?.id ?? newest;
      }
    });

  program
    .command('usage')
    .description('operations, compute time and input bytes per API key per day')
    .option('--server <id>')
    .option('--from <date>')
    .option('--to <date>')
    .action(async (opts: { server?: string; from?: string; to?: string }) => {
      const { owner, session } = ownerFrom(g());
      const rows = await owner.usage(await serverIdOf(owner, session, opts.server), {
        from: opts.from,
        to: opts.to,
      });
      out(g(), rows, () => rows.map((r) => JSON.stringify(r)).join('\n') || '(no usage)');
    });

  return program;
}

/** A complete tar ends with two zero blocks (1024 zero bytes). */
function endsWithTarTrailer(path: string): boolean {
  const size = statSync(path).size;
  if (size < 1024 || size % 512 !== 0) return false;
  const tail = Buffer.alloc(1024);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, tail, 0, 1024, size - 1024);
  } finally {
    closeSync(fd);
  }
  return tail.every((b) => b === 0);
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  const fail = (code: number, problem: Record<string, unknown>, text: string): number => {
    process.stderr.write(json ? `${JSON.stringify(problem)}\n` : `${text}\n`);
    return code;
  };
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0)
        return 0;
      return 2; // commander printed the message already
    }
    if (err instanceof UsageError)
      return fail(2, { code: 'usage', detail: err.message }, `hearth: ${err.message}`);
    if (err instanceof HearthProblemError) {
      return fail(
        1,
        { status: err.status, code: err.code, detail: err.detail, errors: err.errors },
        `error: ${err.code}: ${err.detail}${err.errors.length ? ` (${err.errors.map((e) => e.field).join(', ')})` : ''}`,
      );
    }
    if (err instanceof ReceiptVerificationError) {
      return fail(
        1,
        { code: 'receipt_invalid', reason: err.reason, detail: err.message },
        `error: receipt_invalid: ${err.message}`,
      );
    }
    const e = err as Error;
    return fail(
      1,
      { code: e.name === 'AbortError' ? 'aborted' : 'failed', detail: e.message },
      `error: ${e.message}`,
    );
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    () => process.exit(1),
  );
}
