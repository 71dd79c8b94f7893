/**
 * Everything a job leaves in memory that must not outlive it. Handlers `track()` key material and plaintext;
 * the child wipes it when the job ends, whether it succeeded or threw. Only ArrayBuffer-backed memory can be
 * wiped deterministically: keep secrets in Buffers/Uint8Arrays, never in strings.
 */
export class JobScope {
  private readonly views: ArrayBufferView[] = [];
  private readonly cleanups: (() => void)[] = [];
  private ended = false;

  /** Registers `view` to be zero-filled when the job ends; returns it for inline use. */
  track<T extends ArrayBufferView>(view: T): T {
    if (this.ended) {
      // A late track (from work that outlived the job) wipes at once rather than never.
      zero(view);
      return view;
    }
    this.views.push(view);
    return view;
  }

  /** Registers every ArrayBufferView found in `value` (arrays and plain objects, a few levels deep). */
  trackAll(value: unknown, depth = 8): void {
    if (depth < 0 || value === null || typeof value !== 'object') return;
    if (ArrayBuffer.isView(value)) {
      this.track(value);
      return;
    }
    if (value instanceof Map) {
      for (const [k, v] of value) {
        this.trackAll(k, depth - 1);
        this.trackAll(v, depth - 1);
      }
      return;
    }
    const items: unknown[] = Array.isArray(value) || value instanceof Set ? [...value] : Object.values(value);
    for (const item of items) this.trackAll(item, depth - 1);
  }

  /** Runs `fn` when the job ends (after tracked buffers are wiped), e.g. to drop a key object's state. */
  defer(fn: () => void): void {
    if (this.ended) {
      fn();
      return;
    }
    this.cleanups.push(fn);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Wipes every tracked view and runs deferred cleanups; idempotent. A failing cleanup never stops the rest. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const view of this.views.splice(0)) zero(view);
    for (const fn of this.cleanups.splice(0)) {
      try {
        fn();
      } catch {
        // why: a cleanup failure must not skip the others; the child still reports the job's outcome.
      }
    }
  }
}

function zero(view: ArrayBufferView): void {
  new Uint8Array(view.buffer, view.byteOffset, view.byteLength).fill(0);
}
