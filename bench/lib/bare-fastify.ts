import Fastify from 'fastify';

/** The framework's floor: a bare Fastify route answering a small JSON body (child process of the http bench). */
const app = Fastify({ logger: false });
app.get('/hello', async () => ({ status: 'ok' }));
app
  .listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
  .then(() => process.stdout.write('ready\n'))
  .catch((err: unknown) => {
    process.stderr.write(`bare fastify failed: ${String(err)}\n`);
    process.exit(1);
  });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
