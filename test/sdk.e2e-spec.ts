import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { createWalletClient, http } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  HearthApp,
  HearthOwner,
  HearthProblemError,
  ReceiptVerificationError,
  type Operation,
  type Server,
} from '@hearth/sdk';
import { type RunningGateway, type RunningWorker, startGateway, startWorker } from './support/apps';

const JOURNAL =
  'Tuesday. The dentist appointment is on Thursday at 9:30 with Dr. Okafor. ' +
  'I cooked a lentil curry and read two chapters of a novel. ' +
  'Wednesday was a terrible day: the client rejected the design and my manager blamed the team. ' +
  'Thursday the dentist said my teeth are fine and I met friends for dinner, which made me happy.';

async function problem(p: Promise<unknown>): Promise<HearthProblemError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof HearthProblemError) return err;
    throw err;
  }
  assert.fail('expected a HearthProblemError');
}

describe('@hearth/sdk against the real stack', () => {
  let gw: RunningGateway;
  let worker: RunningWorker | undefined;
  let owner: HearthOwner;
  let server: Server;
  const appAccount = privateKeyToAccount(generatePrivateKey());
  let apiKey: string;
  let keyId: string;
  let app: HearthApp;
  let fileId: string;
  let envelopeFileId: string;
  let grantId: string;

  before(async () => {
    gw = await startGateway();
    worker = await startWorker();
    owner = await HearthOwner.signIn(privateKeyToAccount(generatePrivateKey()), { baseUrl: gw.url });
    server = await owner.personalServer();
  });
  after(async () => {
    await worker?.close();
    await gw.close();
  });

  it('signs in with SIWE (an account, or a wallet client) and finds the personal server', async () => {
    assert.match(server.id, /^srv_/);
    assert.equal(server.owner, owner.address);
    const wallet = createWalletClient({
      account: privateKeyToAccount(generatePrivateKey()),
      transport: http('http://127.0.0.1:9'), // a local account signs without the transport
    });
    const other = await HearthOwner.signIn(wallet, { baseUrl: gw.url });
    assert.equal(other.address, wallet.account.address);
    assert.equal((await other.personalServer()).owner, wallet.account.address);
  });

  it('uploads a Node stream (server-side) and bytes encrypted here (client-side), with progress', async () => {
    const seen: number[] = [];
    const file = await owner.upload(
      server.id,
      Readable.from([Buffer.from(JOURNAL.slice(0, 100)), Buffer.from(JOURNAL.slice(100))]),
      {
        name: 'journal.txt',
        contentType: 'text/plain',
        onProgress: (p) => seen.push(p.bytes),
      },
    );
    fileId = file.id;
    assert.equal(file.encryption, 'server');
    assert.equal(file.size, Buffer.byteLength(JOURNAL));
    assert.deepEqual(seen, [100, Buffer.byteLength(JOURNAL)]);

    const progress: number[] = [];
    const sealed = await owner.upload(server.id, new TextEncoder().encode(JOURNAL), {
      name: 'journal.sealed',
      clientSide: true,
      envelope: { chunkSize: 64 },
      onProgress: (p) => progress.push(p.bytes),
    });
    envelopeFileId = sealed.id;
    assert.equal(sealed.encryption, 'client');
    assert.equal(progress.at(-1), Buffer.byteLength(JOURNAL));

    const ids: string[] = [];
    for await (const f of owner.files(server.id)) ids.push(f.id);
    assert.deepEqual(ids.sort(), [fileId, envelopeFileId].sort());
    const back = await (await owner.download(server.id, fileId)).text();
    assert.equal(back, JOURNAL);
  });

  it('refuses bad input with the problem typed: status, code, errors[] naming the field', async () => {
    const err = await problem(owner.upload('srv_00000000000000000000000000000000', 'x', { name: 'x' }));
    assert.equal(err.status, 404);
    const bad = await problem(owner.createApiKey(server.id, { name: 'k', appAddress: 'not-an-address' }));
    assert.equal(bad.status, 400);
    assert.ok(
      bad.errors.some((e) => e.field === 'appAddress'),
      JSON.stringify(bad.errors),
    );
    assert.ok(bad.detail.length > 0);
  });

  it('creates an API key, signs and relays a grant, and the app runs an operation to a verified receipt', async () => {
    const created = await owner.createApiKey(server.id, { name: 'sdk app', appAddress: appAccount.address });
    apiKey = created.key;
    keyId = created.id;
    ({ grantId } = await owner.grant(server.id, {
      appAddress: appAccount.address,
      operations: ['summarize', 'keywords'],
      fileIds: [fileId, envelopeFileId],
    }));
    assert.equal((await owner.getGrant(server.id, grantId)).status, 'active');

    app = new HearthApp({ apiKey, baseUrl: gw.url });
    const catalog = await app.catalog();
    assert.ok(catalog.some((c) => c.name === 'summarize'));
    const statuses: string[] = [];
    const op = await app.run('summarize', {
      fileIds: [fileId],
      grantId,
      parameters: { sentences: 2 },
      onProgress: (e) => statuses.push(e.status),
    });
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.equal(statuses.at(-1), 'succeeded');
    const verified = await app.verifyReceipt(op);
    assert.equal(verified.signer, server.address);
    assert.deepEqual(verified.checked, [
      'signature',
      'server',
      'operationId',
      'app',
      'outputHash',
      'parametersHash',
    ]);

    const sealedRun = await app.run('keywords', { fileIds: [envelopeFileId], grantId });
    assert.equal(sealedRun.status, 'succeeded', JSON.stringify(sealedRun.error));
    await app.verifyReceipt(sealedRun);
  });

  it('rejects a receipt whose result was changed, or that another key signed', async () => {
    const op = await app.run('summarize', { fileIds: [fileId], grantId, parameters: { sentences: 1 } });
    const changed: Operation = { ...op, result: { summary: 'something else' } };
    await assert.rejects(
      app.verifyReceipt(changed),
      (e: unknown) => e instanceof ReceiptVerificationError && e.reason === 'outputHash',
    );
    // A valid signature by a key that is not the server's, claiming to be the server.
    const forger = privateKeyToAccount(generatePrivateKey());
    const typedData = op.receipt!.typedData;
    const forged: Operation = {
      ...op,
      receipt: {
        typedData,
        signer: server.address,
        signature: await forger.signTypedData(typedData),
      },
    };
    await assert.rejects(
      app.verifyReceipt(forged),
      (e: unknown) => e instanceof ReceiptVerificationError && e.reason === 'signature',
    );
  });

  it('sends one Idempotency-Key per run, so the same key gives the same operation', async () => {
    const a = await app.submit('summarize', { fileIds: [fileId], grantId, idempotencyKey: 'sdk-test-1' });
    const b = await app.submit('summarize', { fileIds: [fileId], grantId, idempotencyKey: 'sdk-test-1' });
    assert.equal(a.id, b.id);
    const conflict = await problem(
      app.submit('keywords', { fileIds: [fileId], grantId, idempotencyKey: 'sdk-test-1' }),
    );
    assert.equal(conflict.code, 'idempotency_conflict');
  });

  it('types operation errors: unknown operation, bad parameters', async () => {
    const unknown = await problem(app.run('no_such_operation', { fileIds: [fileId], grantId }));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.code, 'unknown_operation');
    const params = await problem(
      app.run('summarize', { fileIds: [fileId], grantId, parameters: { sentences: 'many' } }),
    );
    assert.equal(params.code, 'invalid_parameters');
    assert.equal(params.errors[0]?.field, 'parameters.sentences');
  });

  it('retries 429 honouring Retry-After, bounded, and then hands the problem over', async () => {
    const limited = await owner.createApiKey(server.id, {
      name: 'limited',
      appAddress: appAccount.address,
      ratePerMinute: 1,
    });
    let calls = 0;
    const counting = new HearthApp({
      apiKey: limited.key,
      baseUrl: gw.url,
      retry: { retries: 2, maxDelayMs: 20 },
      fetch: (input, init) => {
        calls++;
        return fetch(input, init);
      },
    });
    await counting.whoami();
    assert.equal(calls, 1);
    const err = await problem(counting.catalog().then(() => counting.listPage()));
    assert.equal(err.status, 429);
    assert.equal(err.code, 'rate_limited');
    assert.ok((err.retryAfterSeconds ?? 0) > 0);
    // catalog is public (not rate limited); listPage is the second keyed call: first try + 2 retries.
    assert.equal(calls, 1 + 1 + 3);
  });

  it('rotates and revokes API keys', async () => {
    const rotated = await owner.rotateApiKey(server.id, keyId);
    assert.notEqual(rotated.key, apiKey);
    assert.equal((await new HearthApp({ apiKey: rotated.key, baseUrl: gw.url }).whoami()).keyId, keyId);
    const spare = await owner.createApiKey(server.id, { name: 'spare', appAddress: appAccount.address });
    await owner.revokeApiKey(server.id, spare.id);
    const revoked = await problem(new HearthApp({ apiKey: spare.key, baseUrl: gw.url }).whoami());
    assert.equal(revoked.code, 'api_key_revoked');
    const ids: string[] = [];
    for (const k of (await owner.listApiKeys(server.id)).items) ids.push(k.id);
    assert.ok(ids.includes(keyId) && ids.includes(spare.id));
  });

  it('walks the access log as an async iterator over pages, and reads usage', async () => {
    const rows: Array<Record<string, unknown>> = [];
    for await (const row of owner.accessLog(server.id)) rows.push(row);
    assert.ok(rows.length >= 3, `${rows.length} rows`);
    const firstPage = await owner.accessLogPage(server.id, { limit: 1 });
    assert.equal(firstPage.items.length, 1);
    assert.ok(firstPage.nextCursor);
    const usage = await owner.usage(server.id);
    assert.ok(usage.length >= 1);
  });

  it('revokes the grant: the next run is refused with permission_denied', async () => {
    await owner.revokeGrant(server.id, grantId);
    assert.equal((await owner.getGrant(server.id, grantId)).status, 'revoked');
    const denied = await problem(app.run('summarize', { fileIds: [fileId], grantId }));
    assert.equal(denied.status, 403);
    assert.equal(denied.code, 'permission_denied');
  });

  it('creates a collective and manages its members', async () => {
    const collective = await owner.createCollective({ name: 'sdk collective', k: 2 });
    assert.equal(collective.kind, 'collective');
    const member = privateKeyToAccount(generatePrivateKey());
    await owner.addMember(collective.id, member.address);
    const dup = await problem(owner.addMember(collective.id, member.address));
    assert.equal(dup.code, 'member_exists');
    const listed: string[] = [];
    for await (const m of owner.members(collective.id)) listed.push(m.address);
    assert.ok(listed.includes(member.address));
    await owner.removeMember(collective.id, member.address);
    const after: string[] = [];
    for await (const m of owner.members(collective.id)) after.push(m.address);
    assert.ok(!after.includes(member.address));
  });

  it('an AbortSignal cancels a queued operation on the server', async () => {
    await worker?.close(); // nothing runs it: it stays queued until cancelled
    worker = undefined;
    const { grantId: g } = await owner.grant(server.id, {
      appAddress: appAccount.address,
      operations: ['summarize'],
      fileIds: [fileId],
    });
    const controller = new AbortController();
    let id = '';
    const run = app.run('summarize', {
      fileIds: [fileId],
      grantId: g,
      waitSeconds: 1,
      signal: controller.signal,
      onProgress: (e) => {
        id = e.id;
        if (e.status === 'queued') controller.abort();
      },
    });
    await assert.rejects(run, (e: unknown) => (e as Error).name === 'AbortError');
    for (let i = 0; i < 50; i++) {
      if ((await app.get(id)).status === 'cancelled') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await app.get(id)).status, 'cancelled');
  });
});
