/**
 * Files' stored record indexes, kept sealed (as Postgres holds them, never opened here) between operations on the
 * same file: a 10,000-record index is megabytes, and reading it back is most of a record operation's load step.
 * Each file keeps its latest version only; entries go oldest-used first past `maxBytes`. Whether a held copy is
 * still current is Postgres's answer on every operation (FileIndexRepository.readyFor with the held versions).
 */
export class SealedIndexCache {
  private readonly entries = new Map<string, { version: string; sealed: Buffer }>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    /** Larger indexes are not kept: one would push out many. */
    private readonly maxEntryBytes: number = maxBytes / 4,
  ) {}

  /** The copies held of these files' indexes, by version (held by the caller until it is done with them). */
  holdFor(serverId: string, fileIds: readonly string[]): Map<string, Buffer> {
    const held = new Map<string, Buffer>();
    for (const fileId of fileIds) {
      const key = keyOf(serverId, fileId);
      const entry = this.entries.get(key);
      if (!entry) continue;
      // Most recently used last: eviction takes from the front.
      this.entries.delete(key);
      this.entries.set(key, entry);
      held.set(entry.version, entry.sealed);
    }
    return held;
  }

  /** Keeps `sealed` as the file's current index version, replacing an older one. */
  remember(serverId: string, fileId: string, version: string, sealed: Buffer): void {
    const key = keyOf(serverId, fileId);
    this.drop(key);
    if (sealed.length > this.maxEntryBytes) return;
    this.entries.set(key, { version, sealed });
    this.bytes += sealed.length;
    for (const [oldest] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.drop(oldest);
    }
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.sealed.length;
  }
}

function keyOf(serverId: string, fileId: string): string {
  return `${serverId}/${fileId}`;
}
