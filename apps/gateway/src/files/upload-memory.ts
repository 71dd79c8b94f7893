import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Keeps the gateway's memory flat while uploads stream into Postgres.
 *
 * Why: every sealed chunk leaves through node-postgres as a freshly allocated Buffer handed to the socket,
 * and Node only frees buffers that went through a native write in a full GC; V8 schedules one after 64 MiB
 * of such external memory. A 100 MiB upload therefore held up to ~64 MiB of dead buffers on top of the
 * working set. Asking for a concurrent (non-blocking) major GC after every UPLOAD_GC_BYTES written, counted
 * across all uploads of the process so concurrent uploads do not multiply the work, keeps that garbage
 * bounded (`node dist/bench/upload.bench.js` shows the growth). The cost is one incremental GC per 16 MiB.
 */
export const UPLOAD_GC_BYTES = 16 * 1024 * 1024;

export type GcFunction = (options: { type: 'major'; execution: 'async' }) => unknown;

export function exposeGc(): GcFunction | null {
  const existing = (globalThis as { gc?: GcFunction }).gc;
  if (typeof existing === 'function') return existing;
  try {
    // The flag exposes `gc` to contexts created after it is set; the main context keeps no global `gc`.
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    return typeof fn === 'function' ? (fn as GcFunction) : null;
  } catch {
    return null; // memory stays bounded by V8's own external-memory limit, just higher
  }
}

export class UploadMemoryGovernor {
  private written = 0;

  constructor(
    private readonly gc: GcFunction | null = exposeGc(),
    private readonly everyBytes = UPLOAD_GC_BYTES,
  ) {}

  /** Records bytes an upload has just written to the database; collects when enough garbage can have built up. */
  wrote(bytes: number): void {
    this.written += bytes;
    if (this.written < this.everyBytes) return;
    this.written = 0;
    this.gc?.({ type: 'major', execution: 'async' });
  }
}
