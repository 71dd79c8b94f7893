import 'reflect-metadata';
import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { type HearthConfig, loadConfigOrExit } from '@hearth/config';
import {
  createLogger,
  exitOnSignals,
  NestPinoLogger,
  requestIdMixin,
  requestLogContext,
} from '@hearth/logging';
import type { IncomingMessage } from 'node:http';
import { OperationQueue } from '@hearth/queue';
import { queuesDashboard, QUEUES_DASHBOARD_PATH } from './admin/queues-dashboard';
import { AppModule } from './app.module';
import { registerConsole } from './console/console-static';
import { UPLOAD_PATH } from './files/files.controller';
import { DP_RAW_BODY_PATH } from './data-portability/data-portability.controller';
import { dpHostRewrite } from './data-portability/host-rewrite';
import { addErrorCodeSchemas, apiDescription } from './common/error-docs';
import { sendProblem } from './common/problem.filter';
import { requestIdFrom } from './common/request-id';
import { registerCors } from './http/cors';
import { isJsonMediaType, readJsonBody } from './http/json-body';
import { RouteTable } from './http/route-table';
import { Metrics } from './metrics/metrics';
import { isWeb3Signed, MCP_SERVER_PATH } from './mcp/mcp-auth.guard';

const JSON_LIMIT = 1024 * 1024;

/** Builds the gateway (not listening): used by main, the e2e tests and the demo. */
export async function createGateway(config: HearthConfig): Promise<NestFastifyApplication> {
  // One logger, no child per request. The request line and the error lines carry the request id themselves; at
  // debug and trace every line gets it through the request's async context, which on Node 20 taxes every promise
  // of the process (about a third of the gateway's floor), so it is not paid at the usual levels.
  const log = createLogger({ level: config.LOG_LEVEL, name: 'gateway' }, { mixin: requestIdMixin });
  const routes = new RouteTable();
  const adapter = new FastifyAdapter({
    trustProxy: config.TRUST_PROXY,
    // The request id is a caller's sane X-Request-Id or a fresh one; every log line and problem carries it.
    genReqId: (req: IncomingMessage) => requestIdFrom(req),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    // Per-server host names: `<serverId><DP_HOST_SUFFIX>/…` is that server's `/dp/<serverId>/…`.
    ...(config.DP_HOST_SUFFIX ? { rewriteUrl: dpHostRewrite(config.DP_HOST_SUFFIX) } : {}),
  });
  const fastify = adapter.getInstance();
  fastify.addHook('onRoute', (route) => routes.add(route.url, route.method));
  const contextPerRequest = log.isLevelEnabled('debug');
  fastify.addHook('onRequest', (req, reply, done) => {
    void reply.header('X-Request-Id', req.id);
    if (contextPerRequest) requestLogContext.run({ reqId: req.id }, done);
    else done();
  });
  registerCors(fastify, config.CONSOLE_ORIGINS);
  // One line per request: method and path only (query strings and headers may carry names or tokens). The level
  // is fixed at start, so a gateway that logs no info lines has no hook to run either.
  if (log.isLevelEnabled('info')) {
    fastify.addHook('onResponse', (req, reply, done) => {
      const path = req.url.split('?')[0];
      if (path !== '/health/live' && path !== '/metrics') {
        log.info(
          {
            reqId: req.id,
            req: { method: req.method, path },
            res: { statusCode: reply.statusCode },
            responseTime: Math.round(reply.elapsedTime),
          },
          'request completed',
        );
      }
      done();
    });
  }
  // JSON bodies only where the client says JSON; upload routes read the raw stream themselves, and any other
  // type is left unread for the route's guard to refuse (415).
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (req, payload, done) => {
    const path = req.url.split('?')[0];
    if (req.method === 'POST' && (UPLOAD_PATH.test(path) || DP_RAW_BODY_PATH.test(path)))
      return done(null, undefined);
    if (!isJsonMediaType(req.headers['content-type'])) {
      payload.resume();
      return done(null, undefined);
    }
    // A Web3Signed MCP request signs its body's bytes: they are kept for the check.
    const keepRaw = MCP_SERVER_PATH.test(path) && isWeb3Signed(req.headers.authorization);
    readJsonBody(req.raw, payload, JSON_LIMIT, { keepRaw }).then(
      (body) => done(null, body),
      (err: Error) => done(err, undefined),
    );
  });

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, routes), adapter, {
    bodyParser: false,
    logger: new NestPinoLogger(log),
  });
  fastify.addHook('onResponse', app.get(Metrics).onResponse());

  if (config.ADMIN_TOKEN) {
    const { queue } = app.get(OperationQueue);
    await app.register(queuesDashboard(queue, config.ADMIN_TOKEN, sendProblem), {
      prefix: QUEUES_DASHBOARD_PATH,
    });
  }

  await registerConsole(fastify);

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
