import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { decryptAsOwner, deriveOwnerKey, HearthOwner, isHearthProblem, ownerPublicKey } from '@hearth/sdk';
import { readTar } from '../apps/gateway/src/export/tar';
import { type RunningGateway, startGateway } from './support/apps';

const CLI = join(__dirname, '..', 'packages', 'cli', 'src', 'main.js');
const NOTES = 'Shopping: oat milk, lentils, a new kettle.';
const SECRET = 'The surprise party is on Saturday at eight; do not tell Sam.';

interface Manifest {
  format: string;
  server: { id: string; address: string };
  files: Array<{ id: string; name: string; encryption: string; entry: string; size: number }>;
  grants: { count: number };
}

describe('export: one archive with every file, the grants and the access log', () => {
  let gw: RunningGateway;
  let dir: string;
  const ownerKey = generatePrivateKey();
  const account = privateKeyToAccount(ownerKey);

  before(async () => {
    gw = await startGateway();
    dir = mkdtempSync(join(tmpdir(), 'hearth-export-'));
  });
  after(async () => {
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('GET /v1/servers/:id/export streams a tar of everything; the CLI writes the same', async () => {
    const owner = await HearthOwner.signIn(account, { baseUrl: gw.url });
    const server = await owner.personalServer();
    const notes = await owner.upload(server.id, NOTES, { name: 'notes.txt', contentType: 'text/plain' });
    const key = await deriveOwnerKey((message) => account.signMessage({ message }), server.address);
    const secret = await owner.upload(server.id, SECRET, {
      name: 'secret.txt',
      clientSide: true,
      envelope: { ownerPublicKey: ownerPublicKey(key).publicKey },
    });
    const app = privateKeyToAccount(generatePrivateKey());
    const { grantId } = await owner.grant(server.id, {
      appAddress: app.address,
      operations: ['summarize'],
      fileIds: [notes.id],
    });

    const res = await owner.exportArchive(server.id);
    assert.equal(res.headers.get('content-type'), 'application/x-tar');
    const entries = readTar(Buffer.from(await res.arrayBuffer()));
    const byName = new Map(entries.map((e) => [e.name, e.body]));
    assert.deepEqual(
      entries.map((e) => e.name).sort(),
      [
        'access-log/000001.jsonl',
        'files/' + notes.id,
        `files/${secret.id}.hev`,
        'grants.json',
        'manifest.json',
      ].sort(),
    );
    assert.equal(entries[0].name, 'manifest.json');
    const manifest = JSON.parse(byName.get('manifest.json')!.toString()) as Manifest;
    assert.equal(manifest.format, 'hearth-export-v1');
    assert.equal(manifest.server.id, server.id);
    assert.deepEqual(manifest.files.map((f) => [f.name, f.encryption, f.entry]).sort(), [
      ['notes.txt', 'server', `files/${notes.id}`],
      ['secret.txt', 'client', `files/${secret.id}.hev`],
    ]);
    // Server-side: decrypted for the owner. Client-side: the envelope, which the owner key opens (and only it).
    assert.equal(byName.get(`files/${notes.id}`)!.toString(), NOTES);
    const envelope = byName.get(`files/${secret.id}.hev`)!;
    assert.equal(envelope.indexOf(Buffer.from('Saturday')), -1);
    const opened: Uint8Array[] = [];
    for await (const part of decryptAsOwner(key, envelope)) opened.push(part);
    assert.equal(Buffer.concat(opened).toString(), SECRET);
    const grants = JSON.parse(byName.get('grants.json')!.toString()) as Array<{
      grantId: string;
      status: string;
    }>;
    assert.deepEqual(
      grants.map((g) => [g.grantId, g.status]),
      [[grantId, 'active']],
    );
    assert.equal(manifest.grants.count, 1);
    const log = byName
      .get('access-log/000001.jsonl')!
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { operation: string; fileIds: string[] });
    // The export read both files, and says so in the log it exports.
    const reads = log.filter((r) => r.operation === 'download').flatMap((r) => r.fileIds);
    assert.ok(reads.includes(notes.id) && reads.includes(secret.id), JSON.stringify(log));

    // The CLI: the same archive on disk, only once complete.
    const keyFile = join(dir, 'owner.key');
    writeFileSync(keyFile, `${ownerKey}\n`, { mode: 0o600 });
    const env = { PATH: process.env.PATH, HEARTH_URL: gw.url, HEARTH_CLI_CONFIG: join(dir, 'cli.json') };
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [CLI, ...args], { env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      });
    assert.equal((await run(['login', '--key-file', keyFile])).code, 0);
    const out = join(dir, 'mine.tar');
    const exported = await run(['export', '--out', out, '--json']);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal((JSON.parse(exported.stdout) as { file: string }).file, out);
    assert.ok(!existsSync(`${out}.partial`));
    const fromCli = readTar(readFileSync(out));
    assert.deepEqual(
      fromCli.filter((e) => e.name.startsWith('files/')).map((e) => [e.name, e.body.toString('hex')]),
      entries.filter((e) => e.name.startsWith('files/')).map((e) => [e.name, e.body.toString('hex')]),
    );
  });

  it('another account gets 404, no session 401', async () => {
    const owner = await HearthOwner.signIn(account, { baseUrl: gw.url });
    const server = await owner.personalServer();
    const stranger = await HearthOwner.signIn(privateKeyToAccount(generatePrivateKey()), { baseUrl: gw.url });
    await assert.rejects(
      stranger.exportArchive(server.id),
      (err) => isHearthProblem(err) && err.status === 404,
    );
    const anonymous = await fetch(`${gw.url}/v1/servers/${server.id}/export`);
    assert.equal(anonymous.status, 401);
  });
});
