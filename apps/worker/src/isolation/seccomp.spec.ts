import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DENIED_SYSCALLS_X86_64, seccompFilter } from './seccomp';

/** Runs the classic BPF program on (arch, nr) as the kernel would; returns the action. */
function evaluate(program: Buffer, arch: number, nr: number): number {
  let acc = 0;
  for (let pc = 0; pc * 8 < program.length; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) acc = k === 4 ? arch : nr;
    else if (code === 0x15) pc += acc === k ? jt : jf;
    else if (code === 0x35) pc += acc >= k ? jt : jf;
    else if (code === 0x06) return k;
    else throw new Error(`unknown instruction ${code}`);
  }
  throw new Error('fell off the program');
}

const X86_64 = 0xc000003e;
const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;

describe('seccomp filter', () => {
  const program = seccompFilter('x64')!;

  it('refuses every listed call with EPERM', () => {
    for (const [name, nr] of Object.entries(DENIED_SYSCALLS_X86_64))
      assert.equal(evaluate(program, X86_64, nr), EPERM, name);
  });

  it('allows what Node needs (read, write, mmap, clone, futex, epoll_wait, openat, execve)', () => {
    for (const nr of [0, 1, 9, 56, 202, 232, 257, 59]) assert.equal(evaluate(program, X86_64, nr), ALLOW);
  });

  it('refuses x32 numbers and kills calls of another architecture', () => {
    assert.equal(evaluate(program, X86_64, 0x40000000 + 101), EPERM);
    assert.equal(evaluate(program, 0x40000003, 26), 0x80000000);
  });

  it('builds nothing for an architecture it has no numbers for', () => {
    assert.equal(seccompFilter('arm64'), undefined);
  });
});
