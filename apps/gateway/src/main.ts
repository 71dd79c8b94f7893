import 'reflect-metadata';
import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { type HearthConfig, loadConfigOrExit } from '@hearth/config';
import { exitOnSignals } from '@hearth/logging';
import { OperationQueue } from '@hearth/queue';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Logger } from 'nestjs-pino';
import { queuesDashboard, QUEUES_DASHBOARD_PATH } from './admin/queues-dashboard';
import { AppModule } from './app.module';
import { UPLOAD_PATH } from './files/files.controller';
import { addErrorCodeSchemas, apiDescription } from './common/error-docs';
import { sendProblem } from './common/problem.filter';
import { requestId } from './common/request-id';
import { Metrics } from './metrics/metrics';

const JSON_LIMIT = '1mb';

/** Builds the gateway (not listening): used by main, the e2e tests and the demo. */
export async function createGateway(config: HearthConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  if (config.TRUST_PROXY) app.set('trust proxy', true);
  // The request id is set before anything else so even body-parser errors carry it.
  app.use((req: Request & { id?: string }, res: Response, next: NextFunction) => {
    req.id = requestId(req, res);
    next();
  });
  app.use(app.get(Metrics).middleware());
  // JSON bodies only where the client says JSON; upload routes read the raw stream themselves.
  const json = express.json({
    limit: JSON_LIMIT,
    strict: true,
    type: ['application/json', 'application/*+json'],
  });
  app.use((req: Request, res: Response, next: NextFunction) =>
    req.method === 'POST' && UPLOAD_PATH.test(req.path) ? next() : json(req, res, next),
  );
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!err) return next();
    sendProblem(req, res, err);
  });

  if (config.ADMIN_TOKEN) {
    const { queue } = app.get(OperationQueue);
    app.use(
      QUEUES_DASHBOARD_PATH,
      ...queuesDashboard(queue, config.ADMIN_TOKEN, (req, res, err) => sendProblem(req, res, err)),
    );
  }

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Hearth API')
      .setVersion('1')
      .setDescription(apiDescription())
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Owner session token (SIWE)' }, 'session')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'App API key (hth_live_…)' }, 'apiKey')
      .build(),
  );
  addErrorCodeSchemas(document);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await createGateway(config);
  await app.listen(config.PORT, config.HOST);
  const logger = new NestLogger('gateway');
  logger.log(`listening on http://${config.HOST}:${config.PORT}`);
  exitOnSignals(
    () => app.close(),
    (msg) => logger.log(msg),
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
