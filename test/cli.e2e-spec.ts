import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createCipheriv, randomBytes, scryptSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256 } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { type RunningGateway, type RunningWorker, startGateway, startWorker } from './support/apps';

const CLI = join(__dirname, '..', 'packages', 'cli', 'src', 'main.js');
const JOURNAL =
  'Tuesday. The dentist appointment is on Thursday at 9:30 with Dr. Okafor. ' +
  'Wednesday was a terrible day: the client rejected the design and my manager blamed the team. ' +
  'Thursday the dentist said my teeth are fine and I met friends for dinner, which made me happy.';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** A V3 keystore (scrypt, aes-128-ctr, keccak MAC) as wallets write them; small n to keep the test quick. */
function keystoreFor(privateKey: string, password: string): string {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const n = 1024;
  const derived = scryptSync(password, salt, 32, { N: n, r: 8, p: 1 });
  const cipher = createCipheriv('aes-128-ctr', derived.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipher.update(Buffer.from(privateKey.slice(2), 'hex')), cipher.final()]);
  const mac = keccak256(Buffer.concat([derived.subarray(16, 32), ciphertext])).slice(2);
  return JSON.stringify({
    version: 3,
    id: '00000000-0000-4000-8000-000000000000',
    crypto: {
      cipher: 'aes-128-ctr',
      ciphertext: ciphertext.toString('hex'),
      cipherparams: { iv: iv.toString('hex') },
      kdf: 'scrypt',
      kdfparams: { dklen: 32, salt: salt.toString('hex'), n, r: 8, p: 1 },
      mac,
    },
  });
}

describe('the hearth CLI, through its built binary', () => {
  let gw: RunningGateway;
  let worker: RunningWorker;
  let dir: string;
  const ownerKey = generatePrivateKey();
  const owner = privateKeyToAccount(ownerKey);
  const app = privateKeyToAccount(generatePrivateKey());
  let keyFile: string;
  let env: NodeJS.ProcessEnv;

  function hearth(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }
  const ok = async (args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<Result> => {
    const r = await hearth(args, extraEnv);
    assert.equal(r.code, 0, `hearth ${args.join(' ')} → ${r.code}\n${r.stderr}`);
    return r;
  };
  const json = async <T>(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<T> =>
    JSON.parse((await ok([...args, '--json'], extraEnv)).stdout) as T;

  before(async () => {
    gw = await startGateway();
    worker = await startWorker();
    dir = mkdtempSync(join(tmpdir(), 'hearth-cli-'));
    keyFile = join(dir, 'owner.key');
    writeFileSync(keyFile, `${ownerKey}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'journal.txt'), JOURNAL);
    env = {
      PATH: process.env.PATH,
      HEARTH_URL: gw.url,
      HEARTH_CLI_CONFIG: join(dir, 'cli.json'),
    };
  });
  after(async () => {
    await worker.close();
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 2 on bad usage, with the reason on stderr', async () => {
    const unknown = await hearth(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command/);
    const missing = await hearth(['run', 'summarize']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--file/);
    const notSignedIn = await hearth(['servers']);
    assert.equal(notSignedIn.code, 2);
    assert.match(notSignedIn.stderr, /hearth login/);
    const noKey = await hearth(['login']);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /--key-file/);
  });

  it('logs in from a key file or an encrypted keystore, never printing the key, keeping only the token (0600)', async () => {
    const ksFile = join(dir, 'owner.keystore.json');
    writeFileSync(ksFile, keystoreFor(ownerKey, 'correct horse'));
    writeFileSync(join(dir, 'wrong.pw'), 'wrong horse\n');
    const wrong = await hearth(['login', '--keystore', ksFile, '--password-file', join(dir, 'wrong.pw')]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /wrong keystore password/);

    writeFileSync(join(dir, 'right.pw'), 'correct horse\n');
    const viaKeystore = await ok(['login', '--keystore', ksFile, '--password-file', join(dir, 'right.pw')]);
    assert.match(viaKeystore.stdout, new RegExp(owner.address));
    const res = await ok(['login', '--key-file', keyFile, '--json']);
    const me = JSON.parse(res.stdout) as { address: string; serverId: string };
    assert.equal(me.address, owner.address);
    for (const text of [res.stdout, res.stderr, viaKeystore.stdout, viaKeystore.stderr]) {
      assert.ok(!text.includes(ownerKey.slice(2)), 'the private key was printed');
    }
    const saved = readFileSync(join(dir, 'cli.json'), 'utf8');
    assert.ok(!saved.includes(ownerKey.slice(2)), 'the private key was saved');
    assert.equal(statSync(join(dir, 'cli.json')).mode & 0o777, 0o600);
    const servers = await json<Array<{ id: string; kind: string }>>(['servers']);
    assert.ok(servers.some((s) => s.id === me.serverId && s.kind === 'personal'));
  });

  let fileId: string;
  let sealedId: string;
  let apiKey: string;
  let grantId: string;
  let opFile: string;

  it('uploads (server-side and --client-side) with progress on stderr, and lists files', async () => {
    const plain = await ok(['upload', join(dir, 'journal.txt'), '--content-type', 'text/plain', '--json']);
    assert.match(plain.stderr, /journal\.txt .*100% .*bytes/);
    fileId = (JSON.parse(plain.stdout) as Array<{ id: string; encryption: string }>)[0].id;
    const sealed = await json<Array<{ id: string; encryption: string }>>([
      'upload',
      join(dir, 'journal.txt'),
      '--client-side',
    ]);
    assert.equal(sealed[0].encryption, 'client');
    sealedId = sealed[0].id;
    const files = await json<Array<{ id: string }>>(['files']);
    assert.deepEqual(files.map((f) => f.id).sort(), [fileId, sealedId].sort());
    const missing = await hearth(['upload', join(dir, 'nope.txt')]);
    assert.equal(missing.code, 2);
  });

  it('creates a key and a grant, runs as the app, verifies the receipt; a changed result fails it', async () => {
    apiKey = (await json<{ key: string }>(['keys', 'create', '--name', 'cli app', '--app', app.address])).key;
    const g = await json<{ grantId: string }>([
      'grant',
      '--app',
      app.address,
      '--operation',
      'summarize',
      '--file',
      fileId,
      '--file',
      sealedId,
      '--key-file',
      keyFile,
    ]);
    grantId = g.grantId;
    const run = await ok(
      ['run', 'summarize', '--file', fileId, '--param', 'sentences=1', '--grant', grantId, '--json'],
      {
        HEARTH_API_KEY: apiKey,
      },
    );
    const op = JSON.parse(run.stdout) as { id: string; status: string; result: unknown };
    assert.equal(op.status, 'succeeded');
    assert.match(run.stderr, new RegExp(`${op.id} succeeded`));
    opFile = join(dir, 'op.json');
    writeFileSync(opFile, run.stdout);
    const verified = await ok(['receipt', 'verify', opFile], { HEARTH_API_KEY: apiKey });
    assert.match(verified.stdout, /receipt valid/);
    // Without an API key the owner's session fetches the server's address.
    assert.equal((await json<{ valid: boolean }>(['receipt', 'verify', opFile])).valid, true);

    const tampered = join(dir, 'tampered.json');
    writeFileSync(tampered, JSON.stringify({ ...op, result: { summary: 'forged' } }));
    const bad = await hearth(['receipt', 'verify', tampered], { HEARTH_API_KEY: apiKey });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /receipt_invalid/);
  });

  it('exits 1 with the problem code and detail on stderr (plain and --json)', async () => {
    const unknown = await hearth(['run', 'no_such_op', '--file', fileId, '--grant', grantId], {
      HEARTH_API_KEY: apiKey,
    });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^error: unknown_operation: .+/m);
    const params = await hearth(
      ['run', 'summarize', '--file', fileId, '--param', 'sentences="x"', '--json'],
      {
        HEARTH_API_KEY: apiKey,
      },
    );
    assert.equal(params.code, 1);
    const problem = JSON.parse(params.stderr) as { code: string; errors: Array<{ field: string }> };
    assert.equal(problem.code, 'invalid_parameters');
    assert.equal(problem.errors[0].field, 'parameters.sentences');
    const badKey = await hearth(['run', 'summarize', '--file', fileId], { HEARTH_API_KEY: 'hth_live_nope' });
    assert.equal(badKey.code, 1);
    assert.match(badKey.stderr, /invalid_api_key/);
  });

  it('shows the access log (and follows it), and usage', async () => {
    const log = await ok(['log', '--json']);
    const rows = log.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string });
    assert.ok(rows.length >= 1);
    const follow = spawn(process.execPath, [CLI, 'log', '--follow', '--interval', '200', '--json'], { env });
    let seen = '';
    follow.stdout.on('data', (d: Buffer) => (seen += d.toString()));
    try {
      await new Promise((r) => setTimeout(r, 600));
      const before = seen.trim().split('\n').length;
      await ok(['run', 'summarize', '--file', sealedId, '--grant', grantId], { HEARTH_API_KEY: apiKey });
      for (let i = 0; i < 50 && seen.trim().split('\n').length <= before; i++)
        await new Promise((r) => setTimeout(r, 100));
      assert.ok(seen.trim().split('\n').length > before, 'no new row while following');
    } finally {
      follow.kill('SIGINT');
    }
    const usage = await json<unknown[]>(['usage']);
    assert.ok(usage.length >= 1);
  });

  it('rotates and revokes keys, revokes the grant: the next run exits 1 with permission_denied', async () => {
    const keys = await json<Array<{ id: string }>>(['keys', 'list']);
    const rotated = await json<{ id: string; key: string }>(['keys', 'rotate', keys[0].id]);
    assert.notEqual(rotated.key, apiKey);
    await ok(['revoke', grantId, '--key-file', keyFile]);
    const denied = await hearth(['run', 'summarize', '--file', fileId, '--grant', grantId], {
      HEARTH_API_KEY: rotated.key,
    });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /permission_denied/);
    await ok(['keys', 'revoke', keys[0].id]);
    const revoked = await hearth(['run', 'summarize', '--file', fileId], { HEARTH_API_KEY: rotated.key });
    assert.match(revoked.stderr, /api_key_revoked/);
  });
});
