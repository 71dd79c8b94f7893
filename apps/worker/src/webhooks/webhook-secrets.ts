import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { metadataAad, metadataKeyContext } from '@hearth/blobs';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { openValue } from '@hearth/crypto';
import type { DeliveryTarget } from '@hearth/db';
import { DataKeyCache, type KeyManager, keyManagerFromConfig } from '@hearth/kms';

/**
 * Opens a webhook's signing secret for one delivery: the server's metadata key (wrapped by its tenant key in
 * the key manager) unwraps in memory only, cached for METADATA_KEY_CACHE_SECONDS like the gateway's sealer, and
 * the secret is opened with the AAD the gateway sealed it under (server, `webhook.secret`, webhook id).
 */
@Injectable()
export class WebhookSecrets implements OnModuleDestroy {
  private readonly cache: DataKeyCache;
  private keys?: Promise<KeyManager>;

  constructor(@Inject(HEARTH_CONFIG) private readonly config: HearthConfig) {
    this.cache = new DataKeyCache(config.METADATA_KEY_CACHE_SECONDS * 1000);
  }

  async open(serverId: string, target: DeliveryTarget): Promise<string> {
    const wrapped = target.wrappedMetadataKey;
    if (!wrapped) throw new Error(`server ${serverId} has no metadata key`);
    this.keys ??= keyManagerFromConfig(this.config);
    const keys = await this.keys;
    const key = await this.cache.get(serverId, wrapped, () =>
      keys.unwrapDataKey(target.kmsKeyRef, wrapped, metadataKeyContext(serverId)),
    );
    const aad = metadataAad(serverId, 'webhook.secret', target.webhook.id);
    return openValue(key, aad, target.webhook.sealedSecret).toString('utf8');
  }

  onModuleDestroy(): void {
    this.cache.clear();
  }
}
