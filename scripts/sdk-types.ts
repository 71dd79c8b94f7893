import { loadConfig } from '@hearth/config';
import { runMigrations } from '@hearth/db';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import { format, resolveConfig } from 'prettier';
import { createGateway } from '../apps/gateway/src/main';
import { checkServices, dropDatabase } from './lib/services';

/**
 * `npm run sdk:types`: regenerates packages/sdk/src/generated/openapi.ts from the gateway's OpenAPI document
 * (the one `/docs-json` serves). The gateway is booted on a scratch database, asked for its document, and shut.
 * `sdk-types.medium-spec.ts` fails while the committed file differs from what this prints.
 */
export const GENERATED_TYPES_PATH = join(__dirname, '..', '..', 'packages/sdk/src/generated/openapi.ts');

const HEADER =
  "// Generated from the gateway's OpenAPI document by `npm run sdk:types` (openapi-typescript). Do not edit.\n";

/** The document `/docs-json` serves, from a gateway that is built but not listening. */
export async function openApiDocument(app: NestFastifyApplication): Promise<Record<string, unknown>> {
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const res = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/docs-json' });
  if (res.statusCode !== 200) throw new Error(`/docs-json answered ${res.statusCode}`);
  return res.json();
}

/** The TypeScript the SDK commits for a document, formatted as the repo formats code. */
export async function typesFor(document: Record<string, unknown>): Promise<string> {
  const ast = await openapiTS(document as unknown as Parameters<typeof openapiTS>[0], { alphabetize: true });
  const options = (await resolveConfig(GENERATED_TYPES_PATH)) ?? {};
  return format(HEADER + astToString(ast), { ...options, parser: 'typescript' });
}

export function committedTypes(): string {
  return readFileSync(GENERATED_TYPES_PATH, 'utf8');
}

async function main(): Promise<void> {
  const base = loadConfig(process.env);
  const url = new URL(base.DATABASE_URL);
  url.pathname = `/hearth_sdk_types_${Date.now()}_${process.pid}`;
  const databaseUrl = url.toString();
  await checkServices(databaseUrl, base.REDIS_URL);
  await runMigrations(databaseUrl);
  try {
    const app = await createGateway(
      loadConfig({ ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', PORT: '0' }),
    );
    try {
      writeFileSync(GENERATED_TYPES_PATH, await typesFor(await openApiDocument(app)));
    } finally {
      await app.close();
    }
  } finally {
    await dropDatabase(databaseUrl);
  }
  process.stdout.write(`wrote ${GENERATED_TYPES_PATH}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`sdk:types failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
