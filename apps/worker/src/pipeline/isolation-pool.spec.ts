import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { llamaResidentEstimateMb } from '@hearth/inference';
import { writeTinyGguf } from '../../../../libs/inference/src/llm/testing/tiny-gguf';
import { childRecycleMarkMb } from './isolation-pool';

describe("children's recycle mark", () => {
  let dir: string;
  let modelPath: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-mark-'));
    modelPath = join(dir, 'tiny.gguf');
    await writeTinyGguf(modelPath);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is CHILD_MAX_RSS_MB without a local model', () => {
    assert.deepEqual(childRecycleMarkMb({ CHILD_MAX_RSS_MB: 512, LLAMA_CONTEXT_SIZE: 4096 }), {
      markMb: 512,
      modelMb: 0,
    });
  });

  it("adds the model's resident estimate (weights, KV cache of one context, runtime) with one", () => {
    const estimate = llamaResidentEstimateMb(modelPath, 1024);
    assert.ok(estimate > 128);
    assert.deepEqual(
      childRecycleMarkMb({ CHILD_MAX_RSS_MB: 512, LLAMA_MODEL_PATH: modelPath, LLAMA_CONTEXT_SIZE: 1024 }),
      { markMb: 512 + estimate, modelMb: estimate },
    );
  });

  it('keeps the base mark when the model file cannot be read (the operation reports it)', () => {
    const mark = childRecycleMarkMb({
      CHILD_MAX_RSS_MB: 512,
      LLAMA_MODEL_PATH: join(dir, 'missing.gguf'),
      LLAMA_CONTEXT_SIZE: 1024,
    });
    assert.equal(mark.markMb, 512);
    assert.match(mark.modelError ?? '', /ENOENT/);
  });
});
