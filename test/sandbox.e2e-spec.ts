import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { verifyTypedData } from 'viem';
import { OperationErrorCode } from '@hearth/errors';
import type { HearthConfig } from '@hearth/config';
import { keyManagerFromConfig, parseMasterKey } from '@hearth/kms';
import {
  ChildPool,
  DEFAULT_CHILD_SCRIPT,
  type IsolationMode,
  isIsolationError,
  type RunOptions,
} from '../apps/worker/src/isolation';
import type { SandboxTaskInput } from '../apps/worker/src/pipeline/operation-task.types';
import { probeSandbox } from '../apps/worker/src/isolation/sandbox';
import type { EscapeAttempt, EscapeReport } from '../apps/worker/src/isolation/tasks/fixture-tasks';
import { limitOutcome } from '../apps/worker/src/jobs/run-operation.handler';
import {
  IsolationPool,
  SandboxLevelError,
  sandboxFromConfig,
  workerCodeHash,
} from '../apps/worker/src/pipeline/isolation-pool';
import { WorkerHealthServer } from '../apps/worker/src/worker-health.server';
import {
  type RunningGateway,
  type RunningWorker,
  startGateway,
  startWorker,
  testConfig,
} from './support/apps';
import { grant, json, newApp, newTenant, relayerFor, submit, uploadText, waitDone } from './support/flow';

/**
 * The sandbox, attacked from inside: a test-only task tries each way out (the network, the worker's /proc, the
 * keystore and master key, another job's temp files, writing outside /tmp, 2 GiB of Buffers, a fork bomb,
 * running past its time) in sandboxes configured exactly as the worker configures its own, in both isolation
 * modes; each attempt must fail, the failures that end a job must end it with their own code, and the other
 * jobs and the pool must carry on. Then the worker itself: readiness and receipts state the level.
 */

const host = probeSandbox('namespaced');
// CI installs bubblewrap (.ci/run) and runs as root: there the suite must run at the strongest level.
const mustBeNamespaced = process.env.CI === 'true' || existsSync('/usr/bin/bwrap');
const skip =
  host.level !== 'namespaced' && !mustBeNamespaced
    ? `this host allows only ${host.level} (${host.details.join('; ')})`
    : false;

function portOf(url: string, fallback: number): number {
  const port = new URL(url).port;
  return port ? Number(port) : fallback;
}

describe('the sandbox level of this host', () => {
  it('is namespaced where bubblewrap is installed', () => {
    if (mustBeNamespaced) assert.equal(host.level, 'namespaced', host.details.join('; '));
    assert.ok(['none', 'process', 'namespaced'].includes(host.level));
  });

  it('a production worker refuses to start below SANDBOX_MIN_LEVEL unless it is lowered', () => {
    const config = testConfig({ SANDBOX_LEVEL: 'process', SANDBOX_MIN_LEVEL: 'namespaced' });
    assert.throws(
      () => sandboxFromConfig(config, DEFAULT_CHILD_SCRIPT),
      (err: unknown) =>
        err instanceof SandboxLevelError &&
        /below SANDBOX_MIN_LEVEL=namespaced/.test(err.message) &&
        !err.message.includes('\n'),
    );
    const production = { ...testConfig({ SANDBOX_LEVEL: 'none' }), NODE_ENV: 'production' } as HearthConfig;
    assert.throws(() => sandboxFromConfig(production, DEFAULT_CHILD_SCRIPT), SandboxLevelError);
    const lowered = { ...production, SANDBOX_MIN_LEVEL: 'none' } as HearthConfig;
    assert.equal(sandboxFromConfig(lowered, DEFAULT_CHILD_SCRIPT).level, 'none');
  });

  it('maps a sandbox limit to an operation that ends failed with its own code', () => {
    assert.equal(limitOutcome('memory_exceeded').errorCode, OperationErrorCode.sandbox_memory_exceeded);
    assert.equal(limitOutcome('cpu_exceeded').errorCode, OperationErrorCode.sandbox_time_exceeded);
    assert.equal(limitOutcome('job_timeout').errorCode, OperationErrorCode.timeout);
    for (const limit of ['memory_exceeded', 'cpu_exceeded', 'job_timeout'] as const)
      assert.equal(limitOutcome(limit).status, 'failed');
  });
});

for (const mode of ['pooled', 'per-job'] as IsolationMode[]) {
  describe(`escapes from a ${mode} sandbox`, { skip }, () => {
    let worker: RunningWorker;
    let config: HearthConfig;
    let pool: ChildPool;
    const escape = (attempt: EscapeAttempt) => pool.run<EscapeAttempt, EscapeReport>('escape', attempt);

    before(async () => {
      // The worker makes the keystore and master key file, and holds DATABASE_URL in its environment.
      worker = await startWorker();
      config = worker.config;
      // The embedded key manager writes its master key file and keystore on first use.
      const keys = await keyManagerFromConfig(config);
      await keys.createTenantKey('srv_sandboxsuite');
      assert.ok(existsSync(config.masterKeyFile), 'the master key file exists');
      assert.ok(existsSync(config.keystoreDir), 'the keystore exists');
      const spec = sandboxFromConfig(config, DEFAULT_CHILD_SCRIPT);
      assert.equal(spec.level, host.level);
      pool = new ChildPool({
        mode,
        size: 2,
        allowTestTasks: true,
        // Long enough for a busy CI host; the spin test waits this long once per mode.
        jobTimeoutMs: 6000,
        sandbox: spec,
        env: { NODE_ENV: 'test', TZ: 'UTC' },
      });
      await pool.ready();
    });
    after(async () => {
      await pool?.close();
      await worker?.close();
    });

    it('runs as an unprivileged user in its own pid namespace', async () => {
      const me = await escape({ kind: 'whoami' });
      assert.equal(me.ok, true);
      const value = me.value as { uid: number; pid: number };
      assert.notEqual(value.uid, 0);
      assert.notEqual(value.pid, pool.stats().pids[0], 'the pid inside is not the host pid');
    });

    it('reaches no TCP service: Postgres, Redis, the chain, an outside address', async () => {
      const targets = [
        { host: '127.0.0.1', port: portOf(config.DATABASE_URL, 5432) },
        { host: '127.0.0.1', port: portOf(config.REDIS_URL, 6379) },
        { host: '127.0.0.1', port: portOf(config.CHAIN_RPC_URL, 8545) },
        { host: '1.1.1.1', port: 443 },
      ];
      // The services answer from here: the sandbox's failure is its own.
      for (const t of targets) {
        const report = await escape({ kind: 'tcp', ...t });
        assert.equal(report.ok, false, `${t.host}:${t.port} must be unreachable`);
        assert.ok(['ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT'].includes(report.error!));
      }
    });

    it("cannot read the worker's environment, the keystore, HEARTH_HOME or the master key", async () => {
      assert.match(readFileSync(`/proc/${process.pid}/environ`, 'utf8'), /DATABASE_URL=/);
      for (const path of [`/proc/${process.pid}/environ`, config.masterKeyFile]) {
        const report = await escape({ kind: 'read', path });
        assert.equal(report.ok, false, `${path} must not be readable`);
      }
      for (const path of [config.keystoreDir, config.HEARTH_HOME]) {
        const report = await escape({ kind: 'list', path });
        assert.equal(report.ok, false, `${path} must not be listable`);
      }
      // Its own /proc shows only the sandbox: no process of the worker or another job.
      const procs = await escape({ kind: 'list', path: '/proc' });
      const pids = (procs.value as string[]).filter((name) => /^\d+$/.test(name)).map(Number);
      assert.ok(
        pids.every((pid) => pid < 100),
        `only the sandbox's own pids: ${pids.join(',')}`,
      );
      // What pid 1 (bubblewrap) holds is the environment built for the sandbox, nothing of the worker's.
      const init = await escape({ kind: 'read', path: '/proc/1/environ' });
      if (init.ok) assert.ok(!/DATABASE_URL|REDIS_URL|ADMIN_TOKEN|MASTER_KEY|AWS_/.test(String(init.value)));
    });

    it("writes nowhere but its own /tmp, and never sees another job's temp files", async () => {
      for (const path of ['/x', '/usr/x', `${config.HEARTH_HOME}/x`, DEFAULT_CHILD_SCRIPT]) {
        const report = await escape({ kind: 'write', path });
        assert.equal(report.ok, false, `${path} must not be writable`);
      }
      assert.equal((await escape({ kind: 'write', path: '/tmp/other-tenant.txt' })).ok, true);
      // Any sandbox after that job, the same pooled one included: the file is gone.
      for (let i = 0; i < 3; i++) {
        const report = await escape({ kind: 'read', path: '/tmp/other-tenant.txt' });
        assert.equal(report.ok, false);
        assert.equal(report.error, 'ENOENT');
      }
    });

    it('cannot make namespaces of its own or mount anything (seccomp and bubblewrap)', async () => {
      assert.ok(host.seccomp, 'the seccomp filter is loaded on this host');
      for (const args of [
        ['-r', 'true'],
        ['-n', 'true'],
        ['-m', 'true'],
      ]) {
        const report = await escape({ kind: 'exec', path: '/usr/bin/unshare', args });
        assert.equal(report.ok, false, `unshare ${args.join(' ')} must fail`);
      }
    });

    it('2 GiB of Buffers fails the job with memory_exceeded; the pool carries on', async () => {
      const beside = pool.run<{ ms: number }, { pid: number }>('sleep', { ms: 300 });
      await assert.rejects(escape({ kind: 'alloc', mib: 2048 }), (err: unknown) =>
        isIsolationError(err, 'memory_exceeded'),
      );
      assert.ok((await beside).pid > 0, 'the job beside it finished');
      assert.equal((await escape({ kind: 'whoami' })).ok, true);
    });

    it('a fork bomb is stopped by the process limit; the pool carries on', async () => {
      const report = await escape({ kind: 'fork', count: 300 });
      assert.equal(report.ok, false);
      assert.ok((report.value as number) < 300, `started ${String(report.value)}`);
      assert.equal((await escape({ kind: 'whoami' })).ok, true);
    });

    it('a job that runs past its time limit is killed (job_timeout); the pool carries on', async () => {
      const beside = pool.run<unknown, unknown>('echo', { still: 'here' });
      await assert.rejects(escape({ kind: 'spin' }), (err: unknown) => isIsolationError(err, 'job_timeout'));
      assert.deepEqual(await beside, { still: 'here' });
      assert.equal((await escape({ kind: 'whoami' })).ok, true);
    });
  });
}

describe('the worker states its sandbox', () => {
  let gw: RunningGateway;
  let worker: RunningWorker;

  before(async () => {
    gw = await startGateway();
    worker = await startWorker();
  });
  after(async () => {
    await worker?.close();
    await gw?.close();
  });

  it('in readiness and in every receipt, signed', async () => {
    const isolation = worker.app.get(IsolationPool);
    assert.equal(isolation.sandbox.level, host.level);
    const port = worker.app.get(WorkerHealthServer).port();
    const ready = await json<{ sandbox: { level: string; details: string[] } }>(
      await fetch(`http://127.0.0.1:${port}/health/ready`),
    );
    assert.equal(ready.sandbox.level, host.level);
    assert.ok(Array.isArray(ready.sandbox.details));

    // What the sandbox is handed, seen at the pool: a copy as it crosses IPC, and the broker's own buffers.
    const handed: Array<{ copy: SandboxTaskInput; original: SandboxTaskInput }> = [];
    const run = isolation.pool.run.bind(isolation.pool);
    isolation.pool.run = (task: string, input: unknown, opts?: RunOptions) => {
      if (task === 'operation') {
        const original = input as SandboxTaskInput;
        handed.push({ copy: structuredClone(original), original });
      }
      return run(task, input, opts);
    };

    const tenant = await newTenant(gw.url);
    const fileId = await uploadText(gw.url, tenant, 'note.txt', 'One line of text. Another line of text.');
    const app = await newApp(gw.url, tenant);
    const grantId = await grant(relayerFor(gw.config), tenant, app.account.address, ['stats'], [fileId]);
    const res = await submit(gw.url, app, { operation: 'stats', fileIds: [fileId], grantId });
    assert.equal(res.status, 202, await res.clone().text());
    const done = await waitDone(gw.url, app, (await json<{ id: string }>(res)).id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));

    // The sandbox got this job's keys and ciphertext, and nothing that unwraps anything else.
    assert.equal(handed.length, 1);
    const { copy, original } = handed[0];
    assert.deepEqual(Object.keys(copy).sort(), [
      'files',
      'inference',
      'k',
      'metadataKey',
      'operation',
      'operationId',
      'privacy',
      'resultKey',
      'sealedParameters',
      'serverId',
    ]);
    assert.deepEqual(Object.keys(copy.files[0]).sort(), [
      'chunks',
      'ciphertextSha256',
      'contributor',
      'dataKey',
      'encryption',
      'envelopeKey',
      'fileId',
      'sealedContentType',
      'sealedIndex',
      'sealedName',
    ]);
    const masterKey = parseMasterKey(readFileSync(worker.config.masterKeyFile, 'utf8'), 'test');
    const buffers: Buffer[] = [];
    const collect = (v: unknown): void => {
      if (Buffer.isBuffer(v) || v instanceof Uint8Array) buffers.push(Buffer.from(v));
      else if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === 'object') Object.values(v).forEach(collect);
    };
    collect(copy);
    assert.ok(!buffers.some((b) => b.includes(masterKey)), 'the master key is nowhere in the input');
    const text = JSON.stringify(copy, (_k, v: unknown) => (v instanceof Uint8Array ? undefined : v));
    assert.doesNotMatch(text, /masterKey|identity|kms|credentials|DATABASE_URL|REDIS_URL/i);
    // The broker wiped the keys it handed over once the sandbox had answered.
    for (const key of [original.metadataKey, original.resultKey, original.files[0].dataKey!])
      assert.ok(key.length === 32 && key.every((b) => b === 0), 'a handed key is zeroed after the job');
    assert.ok(
      copy.metadataKey.some((b) => b !== 0),
      'the copy shows the key was real',
    );
    const message = done.receipt!.typedData.message as Record<string, string>;
    assert.equal(message.sandboxLevel, host.level);
    assert.equal(message.workerCodeHash, workerCodeHash());
    assert.match(message.workerCodeHash, /^0x[0-9a-f]{64}$/);
    const typedData = done.receipt!.typedData as Parameters<typeof verifyTypedData>[0];
    assert.equal(
      await verifyTypedData({
        ...typedData,
        address: tenant.serverAddress,
        signature: done.receipt!.signature,
      }),
      true,
    );
    // A receipt claiming another level no longer verifies.
    const forged = { ...typedData, message: { ...message, sandboxLevel: 'namespaced-tee' } };
    assert.equal(
      await verifyTypedData({
        ...(forged as typeof typedData),
        address: tenant.serverAddress,
        signature: done.receipt!.signature,
      }),
      false,
    );
  });
});
