import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { Client } from 'pg';

/** The channel the `hearth_notify_auth_change` trigger announces on (migration AuthChangeNotifications). */
export const AUTH_CHANGED_CHANNEL = 'hearth_auth_changed';

export interface AuthChangeListener {
  /** An API key or the server row of `serverId` changed or went away. */
  changed(serverId: string): void;
  /** Announcements may have been missed (the listening connection dropped): forget everything. */
  reset(): void;
}

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;

/**
 * Postgres LISTEN on the auth-change channel, on a connection of its own (a pooled one cannot hold a LISTEN).
 * `live` is true only while announcements are certain to arrive: from the moment LISTEN is acknowledged until
 * the connection errs or ends; a cache must neither serve nor store while it is false. Reconnects by itself.
 */
@Injectable()
export class AuthChangeFeed implements OnApplicationShutdown {
  private readonly log = new Logger(AuthChangeFeed.name);
  private readonly listeners = new Set<AuthChangeListener>();
  private client: Client | undefined;
  private connecting: Promise<void> | undefined;
  private retryMs = RECONNECT_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private isLive = false;

  constructor(@Inject(HEARTH_CONFIG) private readonly config: HearthConfig) {}

  get live(): boolean {
    return this.isLive;
  }

  /** Starts listening on first use; resolves once the first LISTEN was acknowledged or failed. */
  subscribe(listener: AuthChangeListener): Promise<void> {
    this.listeners.add(listener);
    this.connecting ??= this.connect();
    return this.connecting;
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.goDown();
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new Client({
      connectionString: this.config.DATABASE_URL,
      application_name: 'hearth-auth-feed',
    });
    this.client = client;
    client.on('notification', (message) => {
      if (message.channel !== AUTH_CHANGED_CHANNEL || !message.payload) return;
      for (const l of this.listeners) l.changed(message.payload);
    });
    const lost = (why: string) => {
      if (this.client !== client) return;
      this.client = undefined;
      this.goDown();
      client.end().catch(() => undefined);
      if (this.closed) return;
      this.log.warn(`auth change feed lost (${why}); API key cache bypassed until it is back`);
      this.retryTimer = setTimeout(() => void this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
    };
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('connection ended'));
    try {
      await client.connect();
      await client.query(`LISTEN ${AUTH_CHANGED_CHANNEL}`);
      if (this.client !== client) return;
      // Whatever changed while nobody listened is unknown: start from nothing.
      for (const l of this.listeners) l.reset();
      this.isLive = true;
      this.retryMs = RECONNECT_MIN_MS;
    } catch (err) {
      lost(err instanceof Error ? err.message : String(err));
    }
  }

  private goDown(): void {
    this.isLive = false;
    for (const l of this.listeners) l.reset();
  }
}
