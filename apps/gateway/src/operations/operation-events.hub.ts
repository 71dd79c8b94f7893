import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { type OperationEvent, operationEventsChannel } from '@hearth/queue';
import type Redis from 'ioredis';
import { REDIS } from '../infra/infra.module';

type Listener = (event: OperationEvent) => void;

/** One Redis subscriber per gateway fans operation events out to SSE streams. */
@Injectable()
export class OperationEventsHub implements OnApplicationShutdown {
  private subscriber?: Redis;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  private connection(): Redis {
    if (!this.subscriber) {
      this.subscriber = this.redis.duplicate({ enableOfflineQueue: true });
      this.subscriber.on('message', (channel: string, message: string) => {
        const set = this.listeners.get(channel);
        if (!set) return;
        let event: OperationEvent;
        try {
          event = JSON.parse(message) as OperationEvent;
        } catch {
          return;
        }
        for (const listener of set) listener(event);
      });
    }
    return this.subscriber;
  }

  /** Resolves once the subscription is live, so a caller can read the current state afterwards without a gap. */
  async subscribe(operationId: string, listener: Listener): Promise<() => void> {
    const channel = operationEventsChannel(this.config.QUEUE_PREFIX, operationId);
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      await this.connection().subscribe(channel);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(channel);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) {
        this.listeners.delete(channel);
        void this.subscriber?.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  onApplicationShutdown(): void {
    this.subscriber?.disconnect();
  }
}
