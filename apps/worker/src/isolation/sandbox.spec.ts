import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  codePathsFor,
  levelRank,
  limitFromExit,
  probeSandbox,
  sandboxCommand,
  sandboxUid,
  type SandboxProbe,
  type SandboxSpec,
} from './sandbox';

const tools = { setpriv: '/usr/bin/setpriv', prlimit: '/usr/bin/prlimit', bwrap: '/usr/bin/bwrap' };

function spec(level: SandboxSpec['level'], ownUid = true, shareNetwork = false): SandboxSpec {
  const probe: SandboxProbe = { level, details: [], tools, ownUid };
  return {
    level,
    probe,
    limits: { addressSpaceMb: 2048, cpuSeconds: 80, maxProcesses: 64 },
    readOnlyPaths: ['/opt/hearth/dist'],
    shareNetwork,
  };
}

describe('sandbox levels', () => {
  it('orders none < process < namespaced', () => {
    assert.ok(levelRank('none') < levelRank('process'));
    assert.ok(levelRank('process') < levelRank('namespaced'));
  });

  it('none runs the program as is', () => {
    assert.deepEqual(sandboxCommand(spec('none'), 0, '/usr/bin/node', ['a.js']), {
      command: '/usr/bin/node',
      args: ['a.js'],
    });
  });

  it('process: no new privileges, the slot uid, the address-space, CPU and process limits, then the program', () => {
    const { command, args } = sandboxCommand(spec('process'), 3, '/usr/bin/node', ['a.js']);
    assert.equal(command, '/usr/bin/setpriv');
    const uid = String(sandboxUid(3));
    for (const flag of ['--no-new-privs', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'])
      assert.ok(args.includes(flag), flag);
    assert.ok(args.includes(`--as=${2048 * 1024 * 1024}`));
    assert.ok(args.includes('--cpu=80'));
    assert.ok(args.includes('--nproc=64'));
    assert.ok(!args.includes('/usr/bin/bwrap'));
    assert.deepEqual(args.slice(-2), ['/usr/bin/node', 'a.js']);
  });

  it('process without root keeps the uid and sets no process limit (it would count the worker too)', () => {
    const { args } = sandboxCommand(spec('process', false), 0, '/usr/bin/node', []);
    assert.ok(!args.some((a) => a.startsWith('--reuid') || a.startsWith('--nproc')));
  });

  it('namespaced: bubblewrap with every namespace, no network, read-only binds and a private /tmp', () => {
    const { args } = sandboxCommand(spec('namespaced'), 0, '/usr/bin/node', ['a.js'], { infoFd: true });
    const bwrap = args.slice(args.indexOf('/usr/bin/bwrap') + 1, args.lastIndexOf('--'));
    for (const flag of ['--unshare-all', '--die-with-parent', '--as-pid-1', '--new-session'])
      assert.ok(bwrap.includes(flag), flag);
    assert.ok(!bwrap.includes('--share-net'));
    assert.deepEqual(bwrap.slice(bwrap.indexOf('--cap-drop'), bwrap.indexOf('--cap-drop') + 2), [
      '--cap-drop',
      'ALL',
    ]);
    assert.deepEqual(bwrap.slice(bwrap.indexOf('--tmpfs'), bwrap.indexOf('--tmpfs') + 2), [
      '--tmpfs',
      '/tmp',
    ]);
    assert.deepEqual(bwrap.slice(bwrap.indexOf('--proc'), bwrap.indexOf('--proc') + 2), ['--proc', '/proc']);
    assert.deepEqual(bwrap.slice(-2), ['--remount-ro', '/'], 'the root is made read-only last');
    assert.ok(!bwrap.some((a) => a === '--bind'), 'nothing is bound writable');
    assert.ok(bwrap.includes('--info-fd'));
    assert.deepEqual(args.slice(-2), ['/usr/bin/node', 'a.js']);
  });

  it('namespaced with an OpenAI-compatible engine keeps the network, and says nothing else changes', () => {
    const { args } = sandboxCommand(spec('namespaced', true, true), 0, '/usr/bin/node', []);
    assert.ok(args.includes('--share-net'));
    assert.ok(args.includes('--unshare-all'));
  });

  it('namespaced with a seccomp filter: read from fd 0, no nested user namespaces', () => {
    const withFilter = spec('namespaced');
    withFilter.probe = { ...withFilter.probe, seccomp: Buffer.alloc(8) };
    const { args } = sandboxCommand(withFilter, 0, '/usr/bin/node', []);
    const at = args.indexOf('--seccomp');
    assert.deepEqual(args.slice(at, at + 3), ['--seccomp', '0', '--disable-userns']);
    assert.ok(args.includes('--unshare-user'), '--disable-userns needs a user namespace of its own');
  });

  it('gives each slot of a worker, and each worker, uids of their own', () => {
    assert.notEqual(sandboxUid(0, 100), sandboxUid(1, 100));
    assert.notEqual(sandboxUid(0, 100), sandboxUid(0, 101));
    assert.ok(sandboxUid(511, 4095) < 2 ** 31);
  });

  it('binds the dist tree, node_modules and package.json, never the project root', () => {
    assert.deepEqual(codePathsFor('/srv/app/dist/apps/worker/src/pipeline/child.js'), [
      '/srv/app/dist',
      '/srv/app/node_modules',
      '/srv/app/package.json',
    ]);
  });

  it('reads limit exits: SIGXCPU as CPU, an abort as memory, and the 128+signal bubblewrap exits with', () => {
    assert.equal(limitFromExit(null, 'SIGXCPU'), 'cpu_exceeded');
    assert.equal(limitFromExit(152, null), 'cpu_exceeded');
    assert.equal(limitFromExit(null, 'SIGABRT'), 'memory_exceeded');
    assert.equal(limitFromExit(134, null), 'memory_exceeded');
    assert.equal(limitFromExit(1, null), undefined);
    assert.equal(limitFromExit(null, 'SIGKILL'), undefined);
  });

  it('probes none when asked for none', () => {
    const probe = probeSandbox('none');
    assert.equal(probe.level, 'none');
    assert.match(probe.details[0], /turned off/);
  });
});
