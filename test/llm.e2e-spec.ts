/*
 * The LLM operations through the whole stack on the real llama engine: a tiny random-weight GGUF written at
 * test time (no weights committed or downloaded), run by node-llama-cpp inside the worker's isolated child.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyTypedData } from 'viem';
import { writeTinyGguf } from '../libs/inference/src/llm/testing/tiny-gguf';
import { IsolationPool } from '../apps/worker/src/pipeline/isolation-pool';
import { type RunningGateway, type RunningWorker, startGateway, startWorker } from './support/apps';
import {
  type App,
  grant,
  json,
  newApp,
  newTenant,
  type OperationBody,
  relayerFor,
  submit,
  type Tenant,
  uploadText,
} from './support/flow';

const JOURNAL =
  'Monday. I packed the last boxes and the van came at nine.\n\n' +
  'Tuesday. The new flat in Leith is small but bright; I slept on the mattress on the floor.\n\n' +
  'Wednesday. Dinner at Leah’s flat; she lent me two chairs.';

describe('LLM operations on the llama engine, end to end', () => {
  let dir: string;
  let gw: RunningGateway;
  let worker: RunningWorker;
  let tenant: Tenant;
  let app: App;
  let fileId: string;
  let grantId: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-llm-e2e-'));
    // The sandboxes run as uids of their own: a model file must be readable by them, as an operator's would be.
    await chmod(dir, 0o755);
    const modelPath = join(dir, 'tiny.gguf');
    await writeTinyGguf(modelPath);
    await chmod(modelPath, 0o644);
    const llama = { LLAMA_MODEL_PATH: modelPath, LLAMA_CONTEXT_SIZE: '1024', LLAMA_THREADS: '1' };
    gw = await startGateway(llama);
    worker = await startWorker({ ...llama, WORKER_CONCURRENCY: '1' });
    tenant = await newTenant(gw.url);
    fileId = await uploadText(gw.url, tenant, 'journal.txt', JOURNAL);
    app = await newApp(gw.url, tenant);
    grantId = await grant(
      relayerFor(gw.config),
      tenant,
      app.account.address,
      ['llm_ask', 'llm_summarize'],
      [fileId],
    );
  });
  after(async () => {
    await worker?.close();
    await gw?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists llm_ask and llm_summarize on the llama engine, saying what they disclose', async () => {
    const { items } = await json<{
      items: Array<{ name: string; engine: string; model: string; description: string }>;
    }>(await fetch(`${gw.url}/v1/operations/catalog`));
    const llm = items.filter((o) => o.name.startsWith('llm_'));
    assert.deepEqual(
      llm.map((o) => [o.name, o.engine, o.model]),
      [
        ['llm_summarize', 'llama', 'tiny.gguf'],
        ['llm_ask', 'llama', 'tiny.gguf'],
      ],
    );
    assert.match(llm[1].description, /Discloses: .*quotes of up to maxCitations/);
  });

  it('answers llm_ask in the child with passage-id citations and a receipt; the child keeps its model', async () => {
    const run = async (operation: string, parameters: Record<string, unknown>) => {
      const res = await submit(
        gw.url,
        app,
        { operation, fileIds: [fileId], parameters, grantId },
        { Prefer: 'wait=60' },
      );
      const op = await json<OperationBody>(res);
      assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
      return op;
    };
    const asked = await run('llm_ask', { question: 'Whose flat did I have dinner at?', maxAnswerChars: 40 });
    const out = asked.result as { answer: string; citations: Array<{ id: string; quote: string }> };
    assert.ok(out.answer.length <= 40);
    for (const c of out.citations) {
      assert.match(c.id, new RegExp(`^${fileId}#\\d+$`));
      assert.ok(JOURNAL.includes(c.quote));
    }
    assert.ok(asked.receipt);
    assert.equal(
      await verifyTypedData({
        ...(asked.receipt.typedData as Parameters<typeof verifyTypedData>[0]),
        address: tenant.serverAddress,
        signature: asked.receipt.signature,
      }),
      true,
    );
    const summary = await run('llm_summarize', { maxWords: 12 });
    assert.ok((summary.result as { summary: string }).summary.split(/\s+/).length <= 12);
    // One child ran both with the model loaded once: its recycle mark counts the model's memory.
    const stats = worker.app.get(IsolationPool).pool.stats();
    assert.equal(stats.recycled, 0);
    assert.equal(stats.crashed, 0);
  });
});
