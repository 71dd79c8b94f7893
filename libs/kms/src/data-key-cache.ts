/**
 * Unwrapped data keys kept in memory for a short time, so a listing or a busy tenant costs one key-manager
 * unwrap per key and TTL rather than one per row or request. An entry is tied to the wrapped bytes it came
 * from (a changed wrapped key is a miss), bounded in number, and zeroed when it expires or is evicted.
 * Never persisted anywhere.
 */
export class DataKeyCache {
  private readonly entries = new Map<string, { wrapped: Buffer; key: Buffer; expiresAt: number }>();
  private readonly pending = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The cached key for `id` made from `wrapped`, or `unwrap()`'s answer (cached unless the TTL is 0). The
   * returned buffer belongs to the cache: use it, do not keep or zero it. Concurrent misses share one unwrap.
   */
  async get(id: string, wrapped: Buffer, unwrap: () => Promise<Buffer>): Promise<Buffer> {
    const hit = this.entries.get(id);
    if (hit && hit.expiresAt > this.now() && hit.wrapped.equals(wrapped)) return hit.key;
    if (hit) this.drop(id);
    const flightId = `${id}:${wrapped.toString('base64')}`;
    const inFlight = this.pending.get(flightId);
    if (inFlight) return inFlight;
    const p = unwrap().then(
      (key) => {
        this.pending.delete(flightId);
        if (this.ttlMs > 0) this.put(id, wrapped, key);
        return key;
      },
      (err: unknown) => {
        this.pending.delete(flightId);
        throw err;
      },
    );
    this.pending.set(flightId, p);
    return p;
  }

  /** The cached, unexpired key of `id` whatever it was unwrapped from (for ids whose wrapped key never changes). */
  peek(id: string): Buffer | undefined {
    const hit = this.entries.get(id);
    return hit && hit.expiresAt > this.now() ? hit.key : undefined;
  }

  /** Forgets (and zeroes) the key of `id`, e.g. once its tenant is deleted. */
  drop(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.key.fill(0);
    this.entries.delete(id);
  }

  /** Zeroes and forgets every key (shutdown). */
  clear(): void {
    for (const id of [...this.entries.keys()]) this.drop(id);
  }

  get size(): number {
    return this.entries.size;
  }

  private put(id: string, wrapped: Buffer, key: Buffer): void {
    const now = this.now();
    if (this.entries.size >= this.maxEntries) {
      for (const [k, e] of this.entries) if (e.expiresAt <= now) this.drop(k);
      // Still full: drop the oldest (Map keeps insertion order).
      while (this.entries.size >= this.maxEntries) this.drop(this.entries.keys().next().value as string);
    }
    this.entries.set(id, { wrapped: Buffer.from(wrapped), key, expiresAt: now + this.ttlMs });
  }
}
