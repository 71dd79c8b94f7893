import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { metadataAad, metadataKeyContext, type MetadataField } from '@hearth/blobs';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { openValue, sealValue } from '@hearth/crypto';
import { MetadataKeyRepository } from '@hearth/db';
import { DataKeyCache, type KeyManager } from '@hearth/kms';
import { createHmac } from 'node:crypto';
import { KEY_MANAGER } from './key-manager.token';

/** What sealing needs of a server: its id and the tenant key that wraps its metadata key. */
export interface SealingServer {
  id: string;
  kmsKeyRef: string;
}

/** One server's metadata key for the length of a request: seal and open that server's fields. */
export interface ServerSeal {
  seal(field: MetadataField, rowId: string, text: string): Buffer;
  open(field: MetadataField, rowId: string, sealed: Buffer): string;
  /** A keyed hash (HMAC-SHA-256, hex) of `text`: comparable, yet no guess can be checked without the key. */
  digest(text: string): string;
}

/**
 * Seals file names, content types and operation parameters under the server's metadata key (wrapped by its tenant
 * key, created on first use) and opens them for the owner's own reads. The unwrapped key stays in memory only
 * (DataKeyCache, METADATA_KEY_CACHE_SECONDS): a listing costs one unwrap per server and TTL, never one per row.
 */
@Injectable()
export class MetadataSealer implements OnModuleDestroy {
  private readonly cache: DataKeyCache;

  constructor(
    @Inject(HEARTH_CONFIG) config: HearthConfig,
    @Inject(KEY_MANAGER) private readonly keys: KeyManager,
    private readonly metadataKeys: MetadataKeyRepository,
  ) {
    this.cache = new DataKeyCache(config.METADATA_KEY_CACHE_SECONDS * 1000);
  }

  /** The server's seal; creates its metadata key on first use. */
  async forServer(server: SealingServer): Promise<ServerSeal> {
    const key = this.cache.peek(server.id) ?? (await this.unwrap(server));
    return {
      seal: (field, rowId, text) =>
        sealValue(key, metadataAad(server.id, field, rowId), Buffer.from(text, 'utf8')),
      open: (field, rowId, sealed) =>
        openValue(key, metadataAad(server.id, field, rowId), sealed).toString('utf8'),
      digest: (text) =>
        createHmac('sha256', key).update('hearth:request-hash:v1\0').update(text).digest('hex'),
    };
  }

  /** Drops the server's cached key (its server is being deleted). */
  forget(serverId: string): void {
    this.cache.drop(serverId);
  }

  onModuleDestroy(): void {
    this.cache.clear();
  }

  /** A server's wrapped metadata key is written once and never changes: a fresh cache entry needs no read. */
  private async unwrap(server: SealingServer): Promise<Buffer> {
    const wrapped = (await this.metadataKeys.find(server.id)) ?? (await this.createKey(server));
    return this.cache.get(server.id, wrapped, () =>
      this.keys.unwrapDataKey(server.kmsKeyRef, wrapped, metadataKeyContext(server.id)),
    );
  }

  private async createKey(server: SealingServer): Promise<Buffer> {
    const made = await this.keys.generateDataKey(server.kmsKeyRef, metadataKeyContext(server.id));
    made.plaintext.fill(0); // the stored (winning) wrapped key is unwrapped through the cache
    const stored = await this.metadataKeys.findOrInsert(server.id, made.wrapped);
    if (!stored) throw new Error(`server ${server.id} is gone`);
    return stored;
  }
}
