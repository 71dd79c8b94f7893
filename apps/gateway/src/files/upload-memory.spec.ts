import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exposeGc, UPLOAD_GC_BYTES, UploadMemoryGovernor } from './upload-memory';

describe('UploadMemoryGovernor', () => {
  it('asks for one concurrent major GC per UPLOAD_GC_BYTES written, across uploads', () => {
    const calls: unknown[] = [];
    const governor = new UploadMemoryGovernor((options) => calls.push(options), 1000);
    for (let i = 0; i < 9; i++) governor.wrote(100);
    assert.equal(calls.length, 0);
    governor.wrote(100); // 1000 bytes in all
    assert.deepEqual(calls, [{ type: 'major', execution: 'async' }]);
    for (let i = 0; i < 25; i++) governor.wrote(100);
    assert.equal(calls.length, 3);
  });

  it('reaches V8 from a process started without --expose-gc, and collecting does not throw', () => {
    assert.equal(typeof exposeGc(), 'function');
    const governor = new UploadMemoryGovernor();
    assert.doesNotThrow(() => governor.wrote(UPLOAD_GC_BYTES));
    // The gateway's global scope stays as it was: no `gc` leaks into it.
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
  });

  it('without a GC handle it only counts', () => {
    const governor = new UploadMemoryGovernor(null, 10);
    assert.doesNotThrow(() => governor.wrote(1000));
  });
});
