import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { FileIndexRepository } from '@hearth/db';
import { HearthApp, HearthOwner, type Server } from '@hearth/sdk';
import { type RunningGateway, type RunningWorker, startGateway, startWorker } from './support/apps';

const CORPUS = join(__dirname, '..', '..', 'bench', 'corpus');

/**
 * The data people have, through the real gateway and worker: an mbox uploaded as application/mbox, a Markdown
 * journal and a WhatsApp export are indexed in the background (sealed, in the isolated child), then `ask`,
 * `summarize`, `entities` and `timeline` answer from their records.
 */
describe('records: formats people export, indexed and asked', () => {
  let gw: RunningGateway;
  let worker: RunningWorker;
  let owner: HearthOwner;
  let server: Server;
  let app: HearthApp;
  let grantId: string;
  const files: Record<string, string> = {};
  const appAccount = privateKeyToAccount(generatePrivateKey());

  before(async () => {
    gw = await startGateway();
    worker = await startWorker();
    owner = await HearthOwner.signIn(privateKeyToAccount(generatePrivateKey()), { baseUrl: gw.url });
    server = await owner.personalServer();
  });
  after(async () => {
    await worker?.close();
    await gw?.close();
  });

  /** Waits for the indexing job's outcome in Postgres (there is no event to await across processes). */
  async function indexed(fileId: string): Promise<{ status: string; records: number }> {
    const indexes = worker.app.get(FileIndexRepository);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = await indexes.status(server.id, fileId);
      if (s) return s;
      if (Date.now() > deadline) assert.fail(`file ${fileId} was not indexed within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('indexes an mbox, a journal and a chat export once each, sealed', async () => {
    for (const [name, contentType] of [
      ['mail.mbox', 'application/mbox'],
      ['journal.md', 'text/markdown'],
      ['whatsapp-leah.txt', 'text/plain'],
    ] as const) {
      const f = await owner.upload(server.id, readFileSync(join(CORPUS, name)), { name, contentType });
      files[name] = f.id;
    }
    assert.deepEqual(await indexed(files['mail.mbox']), { status: 'ready', records: 11, errorCode: null });
    assert.equal((await indexed(files['journal.md'])).records, 35);
    assert.equal((await indexed(files['whatsapp-leah.txt'])).records, 25);
    const stored = await worker.app.get(FileIndexRepository).readyFor(server.id, Object.values(files));
    for (const s of stored.values()) {
      const bytes = s.sealedIndex!.toString('latin1');
      assert.ok(!bytes.includes('Leah') && !bytes.includes('risotto'), 'the stored index is sealed');
    }
  });

  it('answers "When did I last see my sister?" with the record, its date and source, within its quote limit', async () => {
    const created = await owner.createApiKey(server.id, {
      name: 'records app',
      appAddress: appAccount.address,
    });
    ({ grantId } = await owner.grant(server.id, {
      appAddress: appAccount.address,
      operations: ['ask', 'summarize', 'entities', 'timeline'],
      fileIds: Object.values(files),
    }));
    app = new HearthApp({ apiKey: created.key, baseUrl: gw.url });
    const catalog = await app.catalog();
    const askEntry = catalog.find((c) => c.name === 'ask') as { discloses?: string } | undefined;
    assert.match(askEntry?.discloses ?? '', /passages/);

    const op = await app.run('ask', {
      fileIds: Object.values(files),
      grantId,
      parameters: { question: 'When did I last see my sister?', quotes: 2 },
    });
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    const out = op.result as {
      answer: { time: string; text: string; source: { fileId: string; format: string } };
      quotes: { text: string }[];
      readAs: string[];
    };
    assert.match(out.answer.text, /Saw Leah for coffee/);
    assert.equal(out.answer.time, '2024-04-14T00:00:00.000Z');
    assert.equal(out.answer.source.fileId, files['journal.md']);
    assert.deepEqual(out.readAs, ['Leah']);
    assert.ok(out.quotes.length <= 1);
    const verified = await app.verifyReceipt(op);
    assert.equal(verified.signer, server.address);
    const message = (op.receipt as unknown as { typedData: { message: { quotedChars: string } } }).typedData
      .message;
    assert.ok(
      Number(message.quotedChars) >= out.answer.text.length,
      'the receipt counts the quoted characters',
    );

    const pet = await app.run('ask', {
      fileIds: Object.values(files),
      grantId,
      parameters: { question: 'What is the name of my cat?' },
    });
    assert.match(JSON.stringify(pet.result), /Pixel/);
  });

  it('summarizes per thread without headers or quoted replies, lists entities and a timeline', async () => {
    const summary = await app.run('summarize', {
      fileIds: [files['mail.mbox']],
      grantId,
      parameters: { by: 'thread', sentences: 2 },
    });
    assert.equal(summary.status, 'succeeded', JSON.stringify(summary.error));
    const s = summary.result as { groups: { key: string; summary: string }[] };
    assert.equal(s.groups.length, 4);
    assert.ok(s.groups.some((g) => g.key === 'Harbour quarterly report'));
    const text = JSON.stringify(s);
    assert.doesNotMatch(text, /Message-ID|Return-Path|wrote:|> /);

    const entities = await app.run('entities', { fileIds: Object.values(files), grantId });
    const e = entities.result as { people: { name: string; count: number }[] };
    assert.ok(
      e.people.some((p) => p.name === 'Leah'),
      JSON.stringify(e.people),
    );

    const timeline = await app.run('timeline', {
      fileIds: Object.values(files),
      grantId,
      parameters: { about: 'Lisbon', limit: 10 },
    });
    const t = timeline.result as { events: { time: string; text: string }[] };
    assert.ok(t.events.length >= 2);
    const times = t.events.map((x) => x.time);
    assert.deepEqual(times, [...times].sort());
    assert.ok(t.events.every((x) => x.text.length <= 200));
  });

  it('deletes the index with its file', async () => {
    const id = files['whatsapp-leah.txt'];
    await owner.deleteFile(server.id, id);
    assert.equal(await worker.app.get(FileIndexRepository).status(server.id, id), null);
  });
});
