import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { seccompFilter } from './seccomp';

/**
 * How far a child is confined, weakest first. Each level includes the one before:
 * - `none`: a plain child process of the worker's user (a scrubbed environment, a V8 heap cap, a wall clock).
 * - `process`: util-linux `setpriv --no-new-privs` and `prlimit` (address space, CPU seconds, processes, no core
 *   dumps); a uid of its own per slot when the worker is root.
 * - `namespaced`: `process`, then bubblewrap: new user, pid, net, ipc, uts and cgroup namespaces (no network
 *   interface but its own loopback), capabilities dropped, a read-only root holding only the code, the node
 *   binary, the system libraries and model files, a private tmpfs /tmp and its own /proc.
 */
export const SANDBOX_LEVELS = ['none', 'process', 'namespaced'] as const;
export type SandboxLevel = (typeof SANDBOX_LEVELS)[number];

export function levelRank(level: SandboxLevel): number {
  return SANDBOX_LEVELS.indexOf(level);
}

export interface SandboxProbe {
  /** The strongest level the host allows (capped by what was asked for). */
  level: SandboxLevel;
  /** One line per level that is not available, and why; what the level holds. Logged and in readiness. */
  details: string[];
  tools: { setpriv?: string; prlimit?: string; bwrap?: string };
  /** The worker runs as root: each slot gets a uid of its own. */
  ownUid: boolean;
  /** namespaced: the seccomp filter bubblewrap loads (fd 0), when the architecture has one and it loads. */
  seccomp?: Buffer;
}

export interface SandboxLimits {
  /** RLIMIT_AS in MiB: V8 heap, native Buffers and mapped models all count. */
  addressSpaceMb: number;
  /** RLIMIT_CPU in seconds for one child's whole life. */
  cpuSeconds: number;
  /** RLIMIT_NPROC (threads count too), only with a uid of its own. */
  maxProcesses: number;
}

export interface SandboxSpec {
  level: SandboxLevel;
  probe: SandboxProbe;
  limits: SandboxLimits;
  /** Read-only paths the child needs besides the system libraries: its code, node_modules, model files. */
  readOnlyPaths: string[];
  /** Keep the host's network (an OpenAI-compatible engine must reach its endpoint). Reported in details. */
  shareNetwork: boolean;
}

/** First uid of the per-slot sandbox users (any unused range of the host works; nothing owns files there). */
export const SANDBOX_UID_BASE = 200_000;
const UIDS_PER_WORKER = 512;

/**
 * The host uid of a slot: a block of its own per worker process (by pid), so two workers on one host do not
 * share uids (and with them RLIMIT_NPROC, or the right to signal each other's sandboxes).
 */
export function sandboxUid(slot: number, pid = process.pid): number {
  return SANDBOX_UID_BASE + (pid % 4096) * UIDS_PER_WORKER + (slot % UIDS_PER_WORKER);
}
/** uid/gid the child sees inside its user namespace. */
const INNER_ID = '65534';
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

const TOOLS = {
  setpriv: ['/usr/bin/setpriv', '/bin/setpriv'],
  prlimit: ['/usr/bin/prlimit', '/bin/prlimit'],
  bwrap: ['/usr/bin/bwrap', '/bin/bwrap'],
};

function findTool(paths: string[]): string | undefined {
  return paths.find((p) => existsSync(p));
}

/**
 * What the host allows, found by trying it: a namespaced sandbox that runs `true` as the slot's user, then
 * setpriv + prlimit alone. Costs a few milliseconds once at start.
 */
export function probeSandbox(wanted: SandboxLevel = 'namespaced'): SandboxProbe {
  const tools = {
    setpriv: findTool(TOOLS.setpriv),
    prlimit: findTool(TOOLS.prlimit),
    bwrap: findTool(TOOLS.bwrap),
  };
  const ownUid = process.getuid?.() === 0;
  const details: string[] = [];
  const probe = (level: SandboxLevel): SandboxProbe => ({ level, details, tools, ownUid });
  const truePath = findTool(['/usr/bin/true', '/bin/true']);
  if (levelRank(wanted) < levelRank('process')) {
    details.push('confinement turned off (SANDBOX_LEVEL=none)');
    return probe('none');
  }
  if (!tools.setpriv || !tools.prlimit || !truePath) {
    details.push('process: util-linux setpriv and prlimit are not installed');
    return probe('none');
  }
  const limits: SandboxLimits = { addressSpaceMb: 1024, cpuSeconds: 5, maxProcesses: 64 };
  const processArgs = wrapperArgs(tools, ownUid, limits, 0);
  const processRun = spawnSync(processArgs[0], [...processArgs.slice(1), truePath], { timeout: 5000 });
  if (processRun.status !== 0) {
    details.push(`process: setpriv/prlimit failed (${oneLine(processRun.stderr)})`);
    return probe('none');
  }
  if (levelRank(wanted) < levelRank('namespaced')) return probe('process');
  if (!tools.bwrap) {
    details.push('namespaced: bubblewrap (bwrap) is not installed');
    return probe('process');
  }
  const spec: SandboxSpec = {
    level: 'namespaced',
    probe: probe('namespaced'),
    limits,
    readOnlyPaths: [],
    shareNetwork: false,
  };
  const cmd = sandboxCommand(spec, 0, truePath, []);
  const run = spawnSync(cmd.command, cmd.args, { timeout: 5000 });
  if (run.status !== 0) {
    // Typical inside a container: user namespaces refused (seccomp/AppArmor profile, no CAP_SYS_ADMIN).
    details.push(`namespaced: bubblewrap cannot create its namespaces here (${oneLine(run.stderr)})`);
    return probe('process');
  }
  const filter = seccompFilter();
  if (!filter) {
    details.push(`seccomp filter: none for ${process.arch}`);
    return probe('namespaced');
  }
  const withFilter = { ...spec, probe: { ...spec.probe, seccomp: filter } };
  const filtered = sandboxCommand(withFilter, 0, truePath, []);
  const filteredRun = spawnSync(filtered.command, filtered.args, { timeout: 5000, input: filter });
  if (filteredRun.status !== 0) {
    details.push(`seccomp filter: bubblewrap could not load it (${oneLine(filteredRun.stderr)})`);
    return probe('namespaced');
  }
  return { ...probe('namespaced'), seccomp: filter };
}

function oneLine(buf: Buffer | string | null | undefined): string {
  const text = (buf ?? '').toString().trim().split('\n')[0] ?? '';
  return text.slice(0, 200) || 'no message';
}

/** setpriv (no new privileges, parent-death signal, the slot's uid when root) then prlimit. */
function wrapperArgs(
  tools: SandboxProbe['tools'],
  ownUid: boolean,
  limits: SandboxLimits,
  slot: number,
): string[] {
  const args = [tools.setpriv!, '--no-new-privs', '--pdeathsig', 'KILL'];
  if (ownUid) {
    const id = String(sandboxUid(slot));
    args.push(`--reuid=${id}`, `--regid=${id}`, '--clear-groups');
  }
  args.push(
    '--',
    tools.prlimit!,
    `--as=${limits.addressSpaceMb * 1024 * 1024}`,
    `--cpu=${limits.cpuSeconds}`,
  );
  args.push('--core=0');
  // RLIMIT_NPROC counts every process and thread of the uid: only meaningful for a uid nobody else uses.
  if (ownUid) args.push(`--nproc=${limits.maxProcesses}`);
  args.push('--');
  return args;
}

/** The fd bubblewrap writes `{"child-pid": N}` to (N: the host pid of the sandbox's init). */
export const SANDBOX_INFO_FD = 4;

/** bubblewrap's arguments: namespaces, a read-only root of only what the child needs, a private /tmp. */
function bwrapArgs(spec: SandboxSpec, infoFd: boolean): string[] {
  // --unshare-all only tries the user namespace; it is required here (the sandbox runs unprivileged).
  const args = ['--unshare-all', '--unshare-user'];
  if (infoFd) args.push('--info-fd', String(SANDBOX_INFO_FD));
  if (spec.shareNetwork) args.push('--share-net');
  // The filter arrives on fd 0 (the child's stdin, written and closed by the pool); nested namespaces are
  // refused by it too (unshare, setns) and by bubblewrap itself.
  if (spec.probe.seccomp) args.push('--seccomp', '0', '--disable-userns');
  // --as-pid-1: node itself is the namespace's init, so when bubblewrap is killed the parent-death signal ends
  // node and with it every process of the namespace. A reaper of bubblewrap's own in between could outlive a
  // killed bubblewrap (its death signal is lost to a race), holding the IPC channel open.
  args.push('--die-with-parent', '--as-pid-1', '--new-session', '--cap-drop', 'ALL');
  args.push('--uid', INNER_ID, '--gid', INNER_ID);
  args.push('--hostname', 'sandbox');
  for (const dir of SYSTEM_DIRS) args.push('--ro-bind-try', dir, dir);
  const seen = new Set<string>(SYSTEM_DIRS);
  const bind = (path: string): void => {
    if (!existsSync(path)) return;
    // A symlinked path (node_modules of a worktree) is recreated as the same symlink over its real target.
    const real = realpathSync(path);
    if (lstatSync(path).isSymbolicLink() && !seen.has(path)) {
      seen.add(path);
      args.push('--symlink', real, path);
    }
    if (SYSTEM_DIRS.some((d) => real === d || real.startsWith(`${d}/`)) || seen.has(real)) return;
    seen.add(real);
    args.push('--ro-bind', real, real);
  };
  // The private /tmp first: code or a model file that lives under /tmp (a clone there, a test's model) is bound
  // over it read-only instead of being hidden by it.
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  bind(process.execPath);
  for (const path of spec.readOnlyPaths) bind(path);
  args.push('--chdir', '/tmp');
  // Last: everything but /tmp (its own mount) becomes read-only, the root tmpfs included.
  args.push('--remount-ro', '/');
  return args;
}

/** The command that starts `program args` confined at `spec.level` in `slot` (its uid when root). */
export function sandboxCommand(
  spec: SandboxSpec,
  slot: number,
  program: string,
  args: string[],
  opts: { infoFd?: boolean } = {},
): { command: string; args: string[] } {
  if (spec.level === 'none') return { command: program, args };
  const wrapper = wrapperArgs(spec.probe.tools, spec.probe.ownUid, spec.limits, slot);
  const inner =
    spec.level === 'namespaced'
      ? [spec.probe.tools.bwrap!, ...bwrapArgs(spec, opts.infoFd ?? false), '--']
      : [];
  return { command: wrapper[0], args: [...wrapper.slice(1), ...inner, program, ...args] };
}

/**
 * The read-only code a child entry script needs: the `dist` tree it lives in, and beside it node_modules and
 * package.json. Nothing else of the project (its HEARTH_HOME, keystore, .git) is in the child's view.
 */
export function codePathsFor(childScript: string): string[] {
  let dir = dirname(resolve(childScript));
  while (dir !== dirname(dir) && !dir.endsWith('/dist')) dir = dirname(dir);
  if (!dir.endsWith('/dist')) return [dirname(resolve(childScript))];
  const root = dirname(dir);
  return [dir, resolve(root, 'node_modules'), resolve(root, 'package.json')];
}

/** A child's exit during a job, read as a limit it ran into (bwrap exits 128+signal of what it ran). */
export function limitFromExit(
  exitCode: number | null,
  signal: NodeJS.Signals | null,
): 'cpu_exceeded' | 'memory_exceeded' | undefined {
  if (signal === 'SIGXCPU' || exitCode === 128 + 24) return 'cpu_exceeded';
  // V8 aborts (SIGABRT, or SIGTRAP on its fatal out-of-memory path) when an allocation under RLIMIT_AS fails.
  if (signal === 'SIGABRT' || signal === 'SIGTRAP' || exitCode === 128 + 6 || exitCode === 128 + 5)
    return 'memory_exceeded';
  return undefined;
}
