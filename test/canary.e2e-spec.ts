import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { encryptEnvelope, ENVELOPE_CONTENT_TYPE } from '@hearth/crypto';
import { freePort, waitForHttp } from '../scripts/lib/processes';
import { testConfig } from './support/apps';
import { bearer } from './support/siwe';
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
  waitDone,
} from './support/flow';

/**
 * The canary: unique markers live only inside a file's bytes, its name, its Content-Type and an `ask` question.
 * After every path that touches them has run (through the real gateway and worker processes, logging at trace),
 * no marker may be found in Postgres (pg_dump), Redis or any log line, plain or encoded: the owner and the
 * submitting app read them back only through the gateway, which opens them with the server's metadata key.
 */

const run = promisify(execFile);

interface Proc {
  name: string;
  child: ChildProcess;
  output: Buffer[];
  exited: Promise<number | null>;
}

function startProc(name: string, entry: string, env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, [join(__dirname, '..', entry)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => output.push(d));
  child.stderr?.on('data', (d: Buffer) => output.push(d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, child, output, exited };
}

async function stopProc(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  await p.exited;
  clearTimeout(timer);
}

/**
 * Every way the marker could be written down: as is, hex (either case) and base64/base64url at each of the
 * three alignments it can take inside a longer encoded value (only the characters fixed by the marker alone).
 */
function encodings(marker: string): Array<[string, string]> {
  const bytes = Buffer.from(marker, 'utf8');
  const out: Array<[string, string]> = [
    ['plain', marker],
    ['hex', bytes.toString('hex')],
    ['HEX', bytes.toString('hex').toUpperCase()],
  ];
  for (let lead = 0; lead < 3; lead++) {
    const padded = Buffer.concat([Buffer.alloc(lead), bytes]);
    const b64 = padded.toString('base64');
    const start = [0, 2, 3][lead];
    const end = Math.floor(padded.length / 3) * 4;
    const fixed = b64.slice(start, end);
    out.push([`base64@${lead}`, fixed], [`base64url@${lead}`, fixed.replace(/\+/g, '-').replace(/\//g, '_')]);
  }
  return out;
}

function hits(haystack: string, markers: string[]): string[] {
  const found: string[] = [];
  for (const marker of markers) {
    for (const [kind, needle] of encodings(marker))
      if (haystack.includes(needle)) found.push(`${marker} as ${kind}`);
  }
  return found;
}

async function redisDump(
  redis: Redis,
  prefix: string,
): Promise<{ text: string; keys: number; prefixed: number }> {
  const parts: string[] = [];
  let keys = 0;
  let prefixed = 0;
  let cursor = '0';
  do {
    const [next, batch] = await redis.scanBuffer(cursor, 'COUNT', 500);
    cursor = next.toString();
    for (const keyBuf of batch) {
      keys++;
      const key = keyBuf.toString('latin1');
      if (key.startsWith(prefix)) prefixed++;
      parts.push(key);
      const type = await redis.type(keyBuf);
      let values: Buffer[] = [];
      switch (type) {
        case 'string':
          values = [(await redis.getBuffer(keyBuf)) ?? Buffer.alloc(0)];
          break;
        case 'hash':
          values = Object.entries(await redis.hgetallBuffer(keyBuf)).flatMap(([k, v]) => [
            Buffer.from(k, 'latin1'),
            v,
          ]);
          break;
        case 'list':
          values = await redis.lrangeBuffer(keyBuf, 0, -1);
          break;
        case 'set':
          values = await redis.smembersBuffer(keyBuf);
          break;
        case 'zset':
          values = await redis.zrangeBuffer(keyBuf, 0, -1);
          break;
        case 'stream':
          values = (await redis.xrangeBuffer(keyBuf, '-', '+')).flatMap(([id, fields]) => [id, ...fields]);
          break;
        case 'none':
          break; // expired between SCAN and TYPE
        default:
          throw new Error(`unexpected Redis type ${type} at ${key}`);
      }
      for (const v of values) parts.push(v.toString('latin1'));
    }
  } while (cursor !== '0');
  return { text: parts.join('\n'), keys, prefixed };
}

/** Every row of every table as text (bytea shows as hex): the fallback when pg_dump is missing. */
async function sqlDump(databaseUrl: string): Promise<string> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows: tables } = await db.query<{ schema: string; name: string }>(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    const parts: string[] = [];
    for (const t of tables) {
      const { rows } = await db.query<{ row: string }>(
        `SELECT t::text AS row FROM "${t.schema}"."${t.name}" t`,
      );
      for (const r of rows) parts.push(r.row);
    }
    return parts.join('\n');
  } finally {
    await db.end();
  }
}

describe('canary: a file marker appears nowhere but in the file', () => {
  const hex = () => randomBytes(16).toString('hex');
  const fileMarker = `canary-${hex()}`;
  const envelopeMarker = `canary-${hex()}`;
  const questionMarker = `question-${hex()}`;
  const nameMarker = `diagnosis-${hex()}`;
  const typeMarker = `ctype-${hex()}`;
  const FILE_NAME = `notes-${nameMarker}.txt`;
  const CONTENT_TYPE = `text/x-${typeMarker}`;
  const markers = [fileMarker, envelopeMarker, questionMarker, nameMarker, typeMarker];
  const TEXT =
    `My locker code is ${fileMarker} and I keep forgetting it. ` +
    `The note with ${fileMarker} is taped inside my desk drawer. ` +
    `I promised myself never to share ${fileMarker} with anyone at work.`;
  const ENVELOPE_TEXT = `The spare key phrase is ${envelopeMarker} written on the back of the photo.`;

  const config = testConfig();
  const queuePrefix = `hearth-canary-${randomBytes(6).toString('hex')}`;
  let gateway: Proc;
  let worker: Proc;
  let url: string;
  let tenant: Tenant;
  let app: App;
  let fileId: string;
  let envelopeFileId: string;
  const downloaded: string[] = [];
  const downloadTypes: string[] = [];
  let listed: Array<{ id: string; name: string; contentType: string }> = [];
  let described: { name: string; contentType: string };
  let askView: { parameters?: Record<string, unknown> };
  const results: Record<string, OperationBody> = {};
  let logs = '';

  before(async () => {
    const [port, healthPort] = await Promise.all([freePort(), freePort()]);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      WORKER_HEALTH_PORT: String(healthPort),
      LOG_LEVEL: 'trace',
      // A queue of its own, so this test's jobs run in the worker whose output is captured here.
      QUEUE_PREFIX: queuePrefix,
    };
    gateway = startProc('gateway', 'apps/gateway/src/main.js', env);
    worker = startProc('worker', 'apps/worker/src/main.js', env);
    url = `http://127.0.0.1:${port}`;
    let started = false;
    const died = (p: Proc) =>
      p.exited.then((code) => {
        if (!started)
          throw new Error(`${p.name} exited (${code}): ${Buffer.concat(p.output).toString().slice(-4000)}`);
      });
    const tail = (p: Proc) => `${p.name}: ${Buffer.concat(p.output).toString().slice(-3000)}`;
    await Promise.race([
      Promise.all([
        waitForHttp(`${url}/health/ready`, 120_000),
        waitForHttp(`http://127.0.0.1:${healthPort}/health/ready`, 120_000),
      ]),
      died(gateway),
      died(worker),
    ]).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${tail(gateway)}\n${tail(worker)}`);
    });
    started = true;

    // Every path there is, with the marker only ever inside the file's bytes.
    tenant = await newTenant(url);
    const up = await fetch(
      `${url}/v1/servers/${tenant.serverId}/files?name=${encodeURIComponent(FILE_NAME)}`,
      {
        method: 'POST',
        headers: { ...bearer(tenant.token), 'content-type': CONTENT_TYPE },
        body: TEXT,
      },
    );
    fileId = (await json<{ id: string }>(up)).id;
    const server = await json<{ publicKey: string }>(
      await fetch(`${url}/v1/servers/${tenant.serverId}`, { headers: bearer(tenant.token) }),
    );
    const env2 = await fetch(`${url}/v1/servers/${tenant.serverId}/files?name=sealed.hev`, {
      method: 'POST',
      headers: { ...bearer(tenant.token), 'content-type': ENVELOPE_CONTENT_TYPE },
      body: encryptEnvelope(server.publicKey, Buffer.from(ENVELOPE_TEXT)),
    });
    envelopeFileId = (await json<{ id: string }>(env2)).id;

    listed = (
      await json<{ items: typeof listed }>(
        await fetch(`${url}/v1/servers/${tenant.serverId}/files`, { headers: bearer(tenant.token) }),
      )
    ).items;
    described = await json(
      await fetch(`${url}/v1/servers/${tenant.serverId}/files/${fileId}`, { headers: bearer(tenant.token) }),
    );
    for (const id of [fileId, envelopeFileId]) {
      const res = await fetch(`${url}/v1/servers/${tenant.serverId}/files/${id}/content`, {
        headers: bearer(tenant.token),
      });
      assert.equal(res.status, 200);
      downloadTypes.push(res.headers.get('content-type') ?? '');
      downloaded.push(await res.text());
    }

    app = await newApp(url, tenant, { operations: ['summarize', 'keywords', 'ask'] });
    const grantId = await grant(
      relayerFor(config),
      tenant,
      app.account.address,
      ['summarize', 'keywords', 'ask'],
      [fileId, envelopeFileId],
    );
    const jobs: Record<string, Record<string, unknown>> = {
      summarize: { operation: 'summarize', fileIds: [fileId], parameters: { sentences: 2 }, grantId },
      keywords: { operation: 'keywords', fileIds: [fileId], parameters: {}, grantId },
      ask: {
        operation: 'ask',
        fileIds: [fileId],
        parameters: { question: `Where is the note ${questionMarker} taped?` },
        grantId,
      },
      envelope: { operation: 'summarize', fileIds: [envelopeFileId], parameters: { sentences: 1 }, grantId },
    };
    const ids: Record<string, string> = {};
    for (const [label, body] of Object.entries(jobs)) {
      const res = await submit(url, app, body);
      assert.equal(res.status, 202, await res.clone().text());
      ids[label] = (await json<{ id: string }>(res)).id;
    }
    const sse = await fetch(`${url}/v1/operations/${ids.summarize}/events`, { headers: bearer(app.key) });
    assert.match(await sse.text(), /"status":"(succeeded|failed|denied)"/);
    for (const [label, id] of Object.entries(ids)) results[label] = await waitDone(url, app, id, 60_000);
    askView = await json(await fetch(`${url}/v1/operations/${ids.ask}`, { headers: bearer(app.key) }));

    await json(
      await fetch(`${url}/v1/servers/${tenant.serverId}/access-log`, { headers: bearer(tenant.token) }),
    );
    await json(await fetch(`${url}/v1/servers/${tenant.serverId}/usage`, { headers: bearer(tenant.token) }));
    await json(
      await fetch(`${url}/v1/servers/${tenant.serverId}/api-keys`, { headers: bearer(tenant.token) }),
    );
    await json(await fetch(`${url}/v1/operations/catalog`, { headers: bearer(app.key) }));
  });

  after(async () => {
    await Promise.all([gateway, worker].filter(Boolean).map(stopProc));
  });

  it('the marker is where it must be: the download and the operations that read it', () => {
    assert.ok(downloaded[0].includes(fileMarker), 'the download lacks the file marker');
    for (const label of ['summarize', 'keywords', 'ask']) {
      assert.equal(results[label].status, 'succeeded', `${label}: ${JSON.stringify(results[label].error)}`);
    }
    assert.ok(
      JSON.stringify(results.summarize.result).includes(fileMarker),
      'the summary does not quote the file',
    );
    assert.ok(JSON.stringify(results.ask.result).includes(fileMarker), 'the answer does not quote the file');
    // Sanity of the search itself: it finds a marker in a base64/hex blob at any alignment.
    for (const lead of ['', 'x', 'xy']) {
      const blob = Buffer.from(`${lead}${fileMarker}tail`);
      const found = hits(`${blob.toString('base64')} ${blob.toString('hex')}`, [fileMarker]);
      assert.ok(found.includes(`${fileMarker} as base64@${lead.length}`), `${lead}: ${found.join(', ')}`);
      assert.ok(found.includes(`${fileMarker} as hex`), `${lead}: ${found.join(', ')}`);
      assert.ok(!found.includes(`${fileMarker} as plain`));
    }
  });

  it('the owner reads the name and Content-Type back, and the app its own question', () => {
    const mine = listed.find((f) => f.id === fileId);
    assert.deepEqual([mine?.name, mine?.contentType], [FILE_NAME, CONTENT_TYPE]);
    assert.deepEqual([described.name, described.contentType], [FILE_NAME, CONTENT_TYPE]);
    assert.ok(downloadTypes[0].startsWith(CONTENT_TYPE), downloadTypes[0]);
    assert.equal(askView.parameters?.question, `Where is the note ${questionMarker} taped?`);
  });

  it('the envelope marker is where it must be: the envelope operation quotes it', () => {
    assert.equal(results.envelope.status, 'succeeded', `envelope: ${JSON.stringify(results.envelope.error)}`);
    assert.ok(
      JSON.stringify(results.envelope.result).includes(envelopeMarker),
      'the envelope summary does not quote it',
    );
  });

  it('is not in Postgres (so results are stored encrypted too)', async () => {
    let dump: string;
    // Debian keeps the server's own pg_dump beside it; the one on PATH may be older than the server.
    const pgDump =
      [
        ...(await run('sh', ['-c', 'ls /usr/lib/postgresql/*/bin/pg_dump 2>/dev/null || true'])).stdout
          .split('\n')
          .filter(Boolean),
      ]
        .sort()
        .pop() ??
      (await run('which', ['pg_dump']).then(
        (r) => r.stdout.trim(),
        () => '',
      ));
    if (pgDump) {
      dump = (
        await run(pgDump, ['--no-owner', config.DATABASE_URL], {
          maxBuffer: 1024 * 1024 * 1024,
        })
      ).stdout;
    } else {
      dump = await sqlDump(config.DATABASE_URL);
    }
    // The dump is of the right database: it holds the file's and the operations' rows.
    assert.ok(dump.includes(fileId) && dump.includes(envelopeFileId), 'dump lacks the files');
    for (const r of Object.values(results)) assert.ok(dump.includes(r.id), `dump lacks ${r.id}`);
    assert.ok(/sealed_parameters/.test(dump) && /sealed_name/.test(dump), 'dump lacks the sealed columns');
    assert.deepEqual(hits(dump, markers), []);
  });

  it('is not in Redis, under the queue prefix or anywhere else', async () => {
    const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      const { text, keys, prefixed } = await redisDump(redis, queuePrefix);
      assert.ok(prefixed > 0, `no key under ${queuePrefix} among ${keys}`);
      assert.ok(
        text.includes(Object.values(results)[0].id) || text.includes(fileId),
        'Redis holds none of the jobs',
      );
      assert.deepEqual(hits(text, markers), []);
    } finally {
      redis.disconnect();
    }
  });

  it('is not in any log line of the gateway, the worker or its isolated children', async () => {
    await Promise.all([gateway, worker].map(stopProc));
    logs = [gateway, worker].map((p) => Buffer.concat(p.output).toString('utf8')).join('\n');
    // The capture works and is as chatty as it gets: request logs, job logs, trace lines.
    assert.ok(logs.includes(fileId), 'logs never mention the file id');
    assert.ok(logs.includes(results.summarize.id), 'logs never mention the job');
    assert.ok(/"level":"(trace|debug)"/.test(logs) || logs.split('\n').length > 50, 'logs are not verbose');
    assert.deepEqual(hits(logs, markers), []);
  });

  it('logs carry no session token or API key', () => {
    assert.ok(logs.length > 0);
    const found: string[] = [];
    if (logs.includes(tenant.token)) found.push('session token');
    if (logs.includes(app.key)) found.push('API key');
    assert.deepEqual(found, []);
  });
});
