import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig } from '@hearth/config';
import { createGateway } from '../apps/gateway/src/main';
import { committedTypes, openApiDocument, typesFor } from './sdk-types';

describe('the SDK types', () => {
  let app: NestFastifyApplication;
  before(async () => {
    app = await createGateway(loadConfig({ ...process.env, PORT: '0', WORKER_HEALTH_PORT: '0' }));
  });
  after(() => app.close());

  it("are what openapi-typescript makes of the gateway's /docs-json today (else run `npm run sdk:types`)", async () => {
    const fresh = await typesFor(await openApiDocument(app));
    const committed = committedTypes();
    if (fresh !== committed) {
      const a = fresh.split('\n');
      const b = committed.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      assert.fail(
        `packages/sdk/src/generated/openapi.ts is stale (first difference at line ${line + 1}: ` +
          `${JSON.stringify(b[line])} → ${JSON.stringify(a[line])}); run \`npm run sdk:types\` and commit it`,
      );
    }
  });

  it('cover the routes the SDK calls', () => {
    const committed = committedTypes();
    for (const route of ["'/v1/operations'", "'/v1/servers/{id}/files'", "'/v1/whoami'", "'/v1/auth/siwe'"]) {
      assert.ok(committed.includes(route), route);
    }
    assert.match(committed, /serverAddress: string/);
  });
});
