/*
 * A small seccomp filter for bubblewrap's `--seccomp FD`: classic BPF that refuses (EPERM) the system calls a
 * sandboxed Node process never needs and that widen what a compromised one can reach: other processes' memory,
 * namespaces and mounts, the kernel keyring, eBPF, perf events, userfaultfd, modules, kexec, swap, reboot.
 * Everything else is allowed: a deny list, not a full allow list (Node, V8 and native engines use too many calls
 * to enumerate safely). x86_64 only; elsewhere no filter is built and readiness says so.
 */

const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ERRNO = 0x00050000;
const SECCOMP_RET_KILL_PROCESS = 0x80000000;
const EPERM = 1;

const BPF_LD_W_ABS = 0x20;
const BPF_JMP_JEQ_K = 0x15;
const BPF_JMP_JGE_K = 0x35;
const BPF_RET_K = 0x06;
// offsetof(struct seccomp_data, nr) and (…, arch)
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;

/** x86_64 numbers of the refused calls. */
export const DENIED_SYSCALLS_X86_64: Readonly<Record<string, number>> = {
  ptrace: 101,
  process_vm_readv: 310,
  process_vm_writev: 311,
  mount: 165,
  umount2: 166,
  pivot_root: 155,
  unshare: 272,
  setns: 308,
  keyctl: 250,
  add_key: 248,
  request_key: 249,
  bpf: 321,
  perf_event_open: 298,
  userfaultfd: 323,
  kexec_load: 246,
  kexec_file_load: 320,
  init_module: 175,
  finit_module: 313,
  delete_module: 176,
  swapon: 167,
  swapoff: 168,
  reboot: 169,
  acct: 163,
  open_by_handle_at: 304,
  fsopen: 430,
  fsmount: 432,
  move_mount: 429,
  open_tree: 428,
};

function instruction(code: number, jt: number, jf: number, k: number): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeUInt16LE(code, 0);
  buf.writeUInt8(jt, 2);
  buf.writeUInt8(jf, 3);
  buf.writeUInt32LE(k >>> 0, 4);
  return buf;
}

/** The filter as bubblewrap reads it (an array of `struct sock_filter`), or undefined on another architecture. */
export function seccompFilter(arch: string = process.arch): Buffer | undefined {
  if (arch !== 'x64') return undefined;
  const denied = Object.values(DENIED_SYSCALLS_X86_64);
  const program: Buffer[] = [];
  // Another architecture's calls (a 32-bit int 0x80 entry) would bypass the numbers below: kill.
  program.push(instruction(BPF_LD_W_ABS, 0, 0, OFFSET_ARCH));
  program.push(instruction(BPF_JMP_JEQ_K, 1, 0, AUDIT_ARCH_X86_64));
  program.push(instruction(BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS));
  program.push(instruction(BPF_LD_W_ABS, 0, 0, OFFSET_NR));
  // x32 ABI numbers alias the x86_64 ones with a high bit: refuse them all.
  const toDeny = denied.length + 1;
  program.push(instruction(BPF_JMP_JGE_K, toDeny, 0, X32_SYSCALL_BIT));
  denied.forEach((nr, i) => {
    // Jump forward to the deny return: past the remaining checks and the allow return.
    program.push(instruction(BPF_JMP_JEQ_K, denied.length - i, 0, nr));
  });
  program.push(instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW));
  program.push(instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM));
  return Buffer.concat(program);
}
