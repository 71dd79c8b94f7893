import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, ProblemError } from '@hearth/errors';
import { inferenceOptionsFromConfig, listCatalog } from '@hearth/inference';
import { loadConfig } from '@hearth/config';
import type { OperationView } from '../operations/operations.dto';
import { operationResult, problemResult, toolOf } from './mcp.service';

const catalog = listCatalog(inferenceOptionsFromConfig(loadConfig({ NODE_ENV: 'test' })));
const stats = catalog.find((o) => o.name === 'stats')!;

const op = (over: Partial<OperationView>): OperationView => ({
  id: 'op_1',
  serverId: 'srv_1',
  status: 'succeeded',
  operation: 'stats',
  operationVersion: '1.0.0',
  fileIds: [],
  grantId: '1',
  createdAt: '',
  startedAt: null,
  finishedAt: null,
  ...over,
});

describe('MCP tools of the catalog', () => {
  it("takes files on a personal server and a dataset (or nothing) on a collective, the operation's parameters beside", () => {
    const personal = toolOf(stats, false);
    assert.deepEqual(personal.inputSchema.required, ['fileIds']);
    assert.ok(personal.inputSchema.properties?.fileIds);
    assert.equal(personal.inputSchema.properties?.datasetId, undefined);
    assert.equal((personal.inputSchema.properties?.parameters as { $schema?: string }).$schema, undefined);
    const collective = toolOf(stats, true);
    assert.deepEqual(collective.inputSchema.required, []);
    assert.ok(collective.inputSchema.properties?.datasetId);
    assert.equal(collective.inputSchema.properties?.fileIds, undefined);
  });

  it('answers output and receipt on success, an error with the code otherwise, the id while it runs', () => {
    const ok = operationResult(op({ result: { words: 3 }, receipt: { signature: '0x1' } }), true);
    assert.equal(ok.isError, undefined);
    assert.deepEqual(ok.structuredContent, {
      operationId: 'op_1',
      status: 'succeeded',
      result: { words: 3 },
      receipt: { signature: '0x1' },
    });
    const denied = operationResult(
      op({ status: 'denied', error: { code: 'grant_revoked', detail: 'x' } }),
      true,
    );
    assert.equal(denied.isError, true);
    assert.deepEqual(denied.structuredContent?.error, { code: 'grant_revoked', detail: 'x' });
    const running = operationResult(op({ status: 'running' }), false);
    assert.equal(running.isError, undefined);
    assert.deepEqual(running.structuredContent, { operationId: 'op_1', status: 'running' });
  });

  it('turns a problem into an error result with its status, code, field errors and Retry-After', () => {
    const r = problemResult(
      new ProblemError(
        503,
        ErrorCode.chain_unavailable,
        'down',
        [{ field: 'grantId', code: 'x', message: 'y' }],
        {
          'Retry-After': '5',
        },
      ),
    );
    assert.equal(r.isError, true);
    assert.deepEqual(r.structuredContent, {
      error: {
        status: 503,
        code: 'chain_unavailable',
        detail: 'down',
        errors: [{ field: 'grantId', code: 'x', message: 'y' }],
        retryAfterSeconds: 5,
      },
    });
  });
});
