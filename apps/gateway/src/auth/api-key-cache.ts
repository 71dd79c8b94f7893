import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { type ApiKeyMatch, ApiKeyRepository, AuthChangeFeed } from '@hearth/db';

/** Entries beyond this evict the oldest: a bound on memory whatever number of keys is presented. */
const MAX_ENTRIES = 10_000;

interface Entry {
  match: ApiKeyMatch;
  until: number;
}

/**
 * What an API key secret authenticates to, kept in memory so that an app request needs no database round trip.
 * Correct across replicas because every change to `api_keys` or `servers` is announced by a trigger after commit
 * (AuthChangeFeed) and drops that server's entries; while the feed is not live nothing is served or stored.
 * Unknown secrets are never cached (a flood of made-up keys costs lookups, not memory). `API_KEY_CACHE_TTL_MS`
 * bounds an entry's life as a backstop; 0 turns the cache off.
 */
@Injectable()
export class ApiKeyCache implements OnModuleInit {
  private readonly ttlMs: number;
  private readonly entries = new Map<string, Entry>();
  private readonly byServer = new Map<string, Set<string>>();
  // Bumped by every change and reset: a lookup that started before one must not store what it read.
  private epoch = 0;

  constructor(
    @Inject(HEARTH_CONFIG) config: HearthConfig,
    private readonly keys: ApiKeyRepository,
    private readonly feed: AuthChangeFeed,
  ) {
    this.ttlMs = config.API_KEY_CACHE_TTL_MS;
  }

  async onModuleInit(): Promise<void> {
    if (this.ttlMs === 0) return;
    await this.feed.subscribe({
      changed: (serverId) => this.forgetServer(serverId),
      reset: () => this.clear(),
    });
  }

  async find(secretHash: Buffer): Promise<ApiKeyMatch | null> {
    if (this.ttlMs === 0 || !this.feed.live) return this.keys.findBySecretHash(secretHash);
    const id = secretHash.toString('base64');
    const hit = this.entries.get(id);
    const now = Date.now();
    if (hit && hit.until > now) return hit.match;
    if (hit) this.delete(id, hit);
    const epoch = this.epoch;
    const match = await this.keys.findBySecretHash(secretHash);
    if (match && epoch === this.epoch && this.feed.live) this.store(id, match, now);
    return match;
  }

  /** Drops a server's entries at once, in this process (the trigger tells the others, and this one again). */
  forgetServer(serverId: string): void {
    this.epoch++;
    const ids = this.byServer.get(serverId);
    if (!ids) return;
    for (const id of ids) this.entries.delete(id);
    this.byServer.delete(serverId);
  }

  get size(): number {
    return this.entries.size;
  }

  private clear(): void {
    this.epoch++;
    this.entries.clear();
    this.byServer.clear();
  }

  private store(id: string, match: ApiKeyMatch, now: number): void {
    let until = now + this.ttlMs;
    // A previous secret stops working at the end of its grace, whatever the cache holds.
    const graceEnd = match.matched === 'previous' ? match.key.previousSecretExpiresAt?.getTime() : undefined;
    if (graceEnd !== undefined) until = Math.min(until, graceEnd);
    if (this.entries.size >= MAX_ENTRIES) {
      const [oldestId, oldest] = this.entries.entries().next().value as [string, Entry];
      this.delete(oldestId, oldest);
    }
    this.entries.set(id, { match, until });
    const ids = this.byServer.get(match.key.serverId) ?? new Set<string>();
    ids.add(id);
    this.byServer.set(match.key.serverId, ids);
  }

  private delete(id: string, entry: Entry): void {
    this.entries.delete(id);
    const ids = this.byServer.get(entry.match.key.serverId);
    ids?.delete(id);
    if (ids?.size === 0) this.byServer.delete(entry.match.key.serverId);
  }
}
