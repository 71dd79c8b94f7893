import { Inject, Injectable } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { ApiKeyRepository, type Page, toPage } from '@hearth/db';
import { ErrorCode, ProblemError } from '@hearth/errors';
import { isId, newId } from '@hearth/ids';
import { ApiKeyCache } from '../auth/api-key-cache';
import { OwnerEvents } from '../events/owner-events';
import { newApiKeySecret } from '../auth/tokens';
import { type ApiKeyView, type CreateApiKeyBody, toApiKeyView } from './api-keys.dto';

/** Owner-side management of a server's API keys. Callers have already checked the server is the owner's. */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly cache: ApiKeyCache,
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    private readonly events: OwnerEvents,
  ) {}

  async create(serverId: string, body: CreateApiKeyBody): Promise<ApiKeyView & { key: string }> {
    const secret = newApiKeySecret();
    const row = await this.keys.create(serverId, {
      id: newId('key'),
      name: body.name,
      appAddress: body.appAddress.toLowerCase(),
      secretHash: secret.hash,
      secretPrefix: secret.prefix,
      operations: body.operations ? [...new Set(body.operations)] : null,
      origins: body.origins ? [...new Set(body.origins)] : null,
      ratePerMinute: body.ratePerMinute ?? this.config.DEFAULT_RATE_PER_MINUTE,
    });
    await this.events.record(serverId, {
      type: 'api_key.created',
      data: { apiKeyId: row.id, appAddress: row.appAddress },
    });
    return { ...toApiKeyView(row), key: secret.key };
  }

  async list(serverId: string, page: { limit: number; cursor?: string }): Promise<Page<ApiKeyView>> {
    return toPage(await this.keys.list(serverId, page), page.limit, toApiKeyView);
  }

  async revoke(serverId: string, keyId: string): Promise<void> {
    if (!isId('key', keyId) || !(await this.keys.revoke(serverId, keyId)))
      throw ProblemError.notFound('API key');
    // The trigger's announcement follows within milliseconds; this replica's next request must not wait for it.
    this.cache.forgetServer(serverId);
    // Revoking is idempotent; the event is recorded once per key.
    await this.events.record(
      serverId,
      { type: 'api_key.revoked', data: { apiKeyId: keyId } },
      `api_key.revoked:${keyId}`,
    );
  }

  /** Same key id, new secret; the old secret works for API_KEY_ROTATION_GRACE_SECONDS more. */
  async rotate(
    serverId: string,
    keyId: string,
  ): Promise<{ id: string; key: string; previousKeyExpiresAt: string | null }> {
    if (!isId('key', keyId)) throw ProblemError.notFound('API key');
    const secret = newApiKeySecret();
    const row = await this.keys.rotate(
      serverId,
      keyId,
      { secretHash: secret.hash, secretPrefix: secret.prefix },
      this.config.API_KEY_ROTATION_GRACE_SECONDS,
    );
    if (row) this.cache.forgetServer(serverId);
    if (!row) {
      const existing = await this.keys.find(serverId, keyId);
      if (existing?.revokedAt)
        throw new ProblemError(409, ErrorCode.conflict, 'A revoked API key cannot be rotated');
      throw ProblemError.notFound('API key');
    }
    await this.events.record(serverId, {
      type: 'api_key.rotated',
      data: { apiKeyId: row.id, appAddress: row.appAddress },
    });
    return { id: row.id, key: secret.key, previousKeyExpiresAt: toApiKeyView(row).previousKeyExpiresAt };
  }
}
